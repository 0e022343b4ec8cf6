import { randomUUID } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { displayPrefix, generateKey, type Identity, type KeyDirectory } from '../guard/keys.js';
import type { KeyRecord, TeamRecord } from '../guard/types.js';
import type { ChangeEvent, ChangeNotifier, GovernanceStore, UsageQuery, UsageRow } from '../store/types.js';
import type { CreateKeyInput, CreateTeamInput, UpdateKeyInput, UpdateTeamInput } from './schemas.js';

/** A key as the admin API shows it: never its hash. */
export type KeyView = Omit<KeyRecord, 'hash' | 'previous_hash'> & { readonly rotated: boolean };

export function keyView(key: KeyRecord): KeyView {
  const { hash: _hash, previous_hash, ...rest } = key;
  return { ...rest, rotated: previous_hash !== null };
}

/**
 * What the admin API and the CLI do to keys and teams, with the rights of who asks: the master
 * key may do everything; an admin key manages the keys of its own team and reads its team;
 * anything else is refused. Each change is written to the store, applied to this replica's
 * directory and announced to the others.
 */
export class GovernanceService {
  constructor(
    private readonly store: GovernanceStore,
    private readonly directory: KeyDirectory,
    private readonly notifier: ChangeNotifier,
    private readonly rotationGraceMs: number,
  ) {}

  async createKey(actor: Identity, input: CreateKeyInput): Promise<{ key: string; record: KeyView }> {
    const team = this.keyTeamFor(actor, input.team ?? null);
    if (team !== null && (await this.store.getTeam(team)) === null) {
      throw new GatewayError('invalid_request', { message: `No team "${team}".`, param: 'team' });
    }
    if (input.role === 'admin' && actor.kind !== 'master' && team === null) {
      throw new GatewayError('forbidden', { message: 'Only the master key can create admin keys without a team.' });
    }
    const secret = generateKey();
    const now = Date.now();
    const record: KeyRecord = {
      id: `key_${randomUUID().replace(/-/g, '')}`,
      hash: this.directory.hasher.hash(secret),
      prefix: displayPrefix(secret),
      name: input.name ?? null,
      team_id: team,
      role: input.role ?? 'user',
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      max_parallel: input.max_parallel ?? null,
      budget: input.budget ?? null,
      budget_period: input.budget_period ?? 'month',
      expires_at: input.expires_at == null ? null : Date.parse(input.expires_at),
      metadata: input.metadata ?? {},
      data_policy: input.data_policy ?? null,
      state: 'active',
      created_at: now,
      updated_at: now,
      previous_hash: null,
      previous_expires_at: null,
    };
    await this.store.insertKey(record);
    await this.changed({ kind: 'key', id: record.id });
    return { key: secret, record: keyView(record) };
  }

  async listKeys(actor: Identity): Promise<KeyView[]> {
    const team = this.scopeOf(actor);
    const keys = await this.store.listKeys();
    return keys.filter((key) => team === null || key.team_id === team).map(keyView);
  }

  async getKey(actor: Identity, id: string): Promise<KeyView> {
    return keyView(await this.ownKey(actor, id));
  }

  async updateKey(actor: Identity, id: string, input: UpdateKeyInput): Promise<KeyView> {
    const key = await this.ownKey(actor, id);
    if (key.state === 'revoked') throw new GatewayError('invalid_request', { message: 'A revoked key cannot be changed.', param: 'id' });
    if (input.role === 'admin' && actor.kind !== 'master' && key.team_id === null) throw new GatewayError('forbidden');
    const updated: KeyRecord = {
      ...key,
      ...definedOnly({
        name: input.name,
        role: input.role,
        models: input.models,
        rpm: input.rpm,
        tpm: input.tpm,
        max_parallel: input.max_parallel,
        budget: input.budget,
        budget_period: input.budget_period,
        metadata: input.metadata,
        data_policy: input.data_policy,
        state: input.state,
      }),
      expires_at: input.expires_at === undefined ? key.expires_at : input.expires_at === null ? null : Date.parse(input.expires_at),
      updated_at: Date.now(),
    };
    await this.store.updateKey(updated);
    await this.changed({ kind: 'key', id });
    return keyView(updated);
  }

  /** Revocation keeps the row (its usage stays attributable) and takes effect on every replica. */
  async revokeKey(actor: Identity, id: string): Promise<KeyView> {
    const key = await this.ownKey(actor, id);
    const revoked: KeyRecord = { ...key, state: 'revoked', previous_hash: null, previous_expires_at: null, updated_at: Date.now() };
    await this.store.updateKey(revoked);
    await this.changed({ kind: 'key', id });
    return keyView(revoked);
  }

  /** A new secret for the same key record; the old secret works for the grace period. */
  async rotateKey(actor: Identity, id: string, graceMs = this.rotationGraceMs): Promise<{ key: string; record: KeyView }> {
    const key = await this.ownKey(actor, id);
    if (key.state === 'revoked') throw new GatewayError('invalid_request', { message: 'A revoked key cannot be rotated.', param: 'id' });
    const secret = generateKey();
    const now = Date.now();
    const rotated: KeyRecord = {
      ...key,
      hash: this.directory.hasher.hash(secret),
      prefix: displayPrefix(secret),
      previous_hash: key.hash,
      previous_expires_at: now + graceMs,
      updated_at: now,
    };
    await this.store.updateKey(rotated);
    await this.changed({ kind: 'key', id });
    return { key: secret, record: keyView(rotated) };
  }

  async createTeam(actor: Identity, input: CreateTeamInput): Promise<TeamRecord> {
    this.requireMaster(actor);
    const now = Date.now();
    const team: TeamRecord = {
      id: `team_${randomUUID().replace(/-/g, '')}`,
      name: input.name,
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      max_parallel: input.max_parallel ?? null,
      budget: input.budget ?? null,
      budget_period: input.budget_period ?? 'month',
      metadata: input.metadata ?? {},
      state: 'active',
      created_at: now,
      updated_at: now,
    };
    await this.store.insertTeam(team);
    await this.changed({ kind: 'team', id: team.id });
    return team;
  }

  async listTeams(actor: Identity): Promise<TeamRecord[]> {
    const team = this.scopeOf(actor);
    return (await this.store.listTeams()).filter((item) => team === null || item.id === team);
  }

  async getTeam(actor: Identity, id: string): Promise<TeamRecord> {
    const scope = this.scopeOf(actor);
    const team = await this.store.getTeam(id);
    if (team === null || (scope !== null && scope !== id)) throw new GatewayError('not_found', { message: `No team "${id}".` });
    return team;
  }

  async updateTeam(actor: Identity, id: string, input: UpdateTeamInput): Promise<TeamRecord> {
    this.requireMaster(actor);
    const team = await this.getTeam(actor, id);
    const updated: TeamRecord = {
      ...team,
      ...definedOnly({
        name: input.name,
        models: input.models,
        rpm: input.rpm,
        tpm: input.tpm,
        max_parallel: input.max_parallel,
        budget: input.budget,
        budget_period: input.budget_period,
        metadata: input.metadata,
        state: input.state,
      }),
      updated_at: Date.now(),
    };
    await this.store.updateTeam(updated);
    await this.changed({ kind: 'team', id });
    return updated;
  }

  async deleteTeam(actor: Identity, id: string): Promise<void> {
    this.requireMaster(actor);
    if (!(await this.store.deleteTeam(id))) throw new GatewayError('not_found', { message: `No team "${id}".` });
    await this.changed({ kind: 'team', id });
    // Its keys now have no team: refresh them everywhere.
    for (const key of await this.store.listKeys()) if (key.team_id === null) await this.changed({ kind: 'key', id: key.id });
  }

  async usage(actor: Identity, query: Omit<UsageQuery, 'teamId'>): Promise<UsageRow[]> {
    return this.store.usage({ ...query, teamId: this.scopeOf(actor) });
  }

  /** null: everything (master); a team id: only that team (admin key). */
  private scopeOf(actor: Identity): string | null {
    if (actor.kind === 'master') return null;
    if (actor.kind === 'key' && actor.key.role === 'admin' && actor.key.team_id !== null) return actor.key.team_id;
    throw new GatewayError('forbidden', { message: 'The admin API needs the master key or an admin key of a team.' });
  }

  private keyTeamFor(actor: Identity, requested: string | null): string | null {
    const scope = this.scopeOf(actor);
    if (scope === null) return requested;
    if (requested !== null && requested !== scope) throw new GatewayError('forbidden', { message: 'An admin key can only create keys of its own team.' });
    return scope;
  }

  private async ownKey(actor: Identity, id: string): Promise<KeyRecord> {
    const scope = this.scopeOf(actor);
    const key = await this.store.getKey(id);
    if (key === null) throw new GatewayError('not_found', { message: `No key "${id}".` });
    if (scope !== null && key.team_id !== scope) throw new GatewayError('forbidden', { message: 'This key belongs to another team.' });
    return key;
  }

  private requireMaster(actor: Identity): void {
    if (actor.kind !== 'master') {
      this.scopeOf(actor);
      throw new GatewayError('forbidden', { message: 'Only the master key can change teams.' });
    }
  }

  private async changed(event: ChangeEvent): Promise<void> {
    await this.directory.apply(event);
    await this.notifier.publish(event);
  }
}

/** The fields of `patch` that were given (undefined means "leave as it is"; null means "clear"). */
function definedOnly<T extends Record<string, unknown>>(patch: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(patch) as (keyof T)[]) if (patch[key] !== undefined) out[key] = patch[key];
  return out;
}
