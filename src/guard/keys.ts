import { createHmac, randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import type { ChangeEvent, GovernanceStore } from '../store/types.js';
import type { KeyRecord, TeamRecord } from './types.js';

export const KEY_PREFIX = 'sk-stw-';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new virtual key: `sk-stw-` and 32 random bytes in base62 (43 characters). */
export function generateKey(): string {
  let value = BigInt(`0x${randomBytes(32).toString('hex')}`);
  let out = '';
  for (let i = 0; i < 43; i++) {
    out = BASE62[Number(value % 62n)]! + out;
    value /= 62n;
  }
  return KEY_PREFIX + out;
}

/** What is shown of a key in lists: enough to recognise it, far too little to use it. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 4);
}

/** How many presented keys' hashes are remembered (a few hundred bytes each). */
const HASH_MEMO_SIZE = 10_000;

/**
 * Keys are stored only as HMAC-SHA256 with a server-side pepper: a stolen table gives no keys.
 *
 * The hash of a presented key is remembered for the next requests with the same key: an HMAC per
 * request was a visible share of the gateway's CPU, and a client sends the same key thousands of
 * times. The memo lives only in this process's memory, where each presented key passes anyway;
 * it is bounded (oldest first out) so that random keys cannot grow it, and it holds hashes, not
 * decisions: revocation and expiry are checked on the key's current record every time.
 */
export class KeyHasher {
  private readonly memo = new Map<string, string>();

  constructor(private readonly pepper: string) {}

  hash(key: string): string {
    let hash = this.memo.get(key);
    if (hash === undefined) {
      hash = createHmac('sha256', this.pepper).update(key).digest('hex');
      if (this.memo.size >= HASH_MEMO_SIZE) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(key, hash);
    }
    return hash;
  }
}

/** Who is asking. */
export type Identity =
  | { readonly kind: 'master' }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'key'; readonly key: KeyRecord; readonly team: TeamRecord | null };

/**
 * Every key and team, in memory: requests are authenticated without touching the store. Filled
 * at start, kept current by change notifications (and a periodic full reload as a safety net).
 */
export class KeyDirectory {
  private byHash = new Map<string, KeyRecord>();
  private byPreviousHash = new Map<string, KeyRecord>();
  private keys = new Map<string, KeyRecord>();
  private teams = new Map<string, TeamRecord>();

  constructor(
    private readonly store: GovernanceStore,
    readonly hasher: KeyHasher,
  ) {}

  async load(): Promise<void> {
    const [keys, teams] = await Promise.all([this.store.listKeys(), this.store.listTeams()]);
    this.teams = new Map(teams.map((team) => [team.id, team]));
    this.keys = new Map();
    this.byHash = new Map();
    this.byPreviousHash = new Map();
    for (const key of keys) this.index(key);
  }

  /** Re-reads what a change notification names (off the request path). */
  async apply(event: ChangeEvent): Promise<void> {
    if (event.kind === 'team') {
      const team = await this.store.getTeam(event.id);
      if (team === null) this.teams.delete(event.id);
      else this.teams.set(team.id, team);
      return;
    }
    const key = await this.store.getKey(event.id);
    this.unindex(event.id);
    if (key !== null) this.index(key);
  }

  get size(): number {
    return this.keys.size;
  }

  /** A key by id (its record as this replica knows it now), for checks beyond a presented secret. */
  key(id: string): KeyRecord | null {
    return this.keys.get(id) ?? null;
  }

  team(id: string | null): TeamRecord | null {
    return id === null ? null : (this.teams.get(id) ?? null);
  }

  /** The key a presented secret belongs to; throws the right 401/403 otherwise. */
  resolve(presented: string, now: number): Identity {
    const identity = this.resolveKnown(presented, now);
    if (identity === null) throw new GatewayError('invalid_api_key');
    return identity;
  }

  /**
   * Like {@link resolve}, but null when the secret is no key this directory knows (so the caller
   * may still compare it with the master key); a known key that may not be used still throws.
   */
  resolveKnown(presented: string, now: number): Identity | null {
    const hash = this.hasher.hash(presented);
    let key = this.byHash.get(hash);
    if (key === undefined) {
      const rotated = this.byPreviousHash.get(hash);
      if (rotated !== undefined && rotated.previous_expires_at !== null && rotated.previous_expires_at > now) key = rotated;
    }
    if (key === undefined) return null;
    if (key.state === 'revoked') throw new GatewayError('invalid_api_key');
    if (key.state === 'blocked') throw new GatewayError('key_blocked');
    if (key.expires_at !== null && key.expires_at <= now) throw new GatewayError('key_expired');
    const team = this.team(key.team_id);
    if (team !== null && team.state === 'blocked') throw new GatewayError('key_blocked', { message: 'The team of this API key is blocked.' });
    return { kind: 'key', key, team };
  }

  private index(key: KeyRecord): void {
    this.keys.set(key.id, key);
    this.byHash.set(key.hash, key);
    if (key.previous_hash !== null) this.byPreviousHash.set(key.previous_hash, key);
  }

  private unindex(id: string): void {
    const old = this.keys.get(id);
    if (old === undefined) return;
    this.keys.delete(id);
    this.byHash.delete(old.hash);
    if (old.previous_hash !== null) this.byPreviousHash.delete(old.previous_hash);
  }
}
