import { entryHash, GENESIS_HASH, signatureMatches } from './canonical.js';
import type { AuditStore } from './audit-store.js';
import type { AuditCheckpoint } from './types.js';

const PAGE = 1_000;

/** Where the chain first breaks, and why (for a person reading it). */
export interface ChainBreak {
  readonly seq: number;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  readonly head: { readonly seq: number; readonly hash: string };
  /** The first break; null when the chain and its checkpoints hold. */
  readonly broken: ChainBreak | null;
  readonly checkpoints: {
    readonly count: number;
    readonly last: AuditCheckpoint | null;
    /**
     * `verified`: every checkpoint's signature was checked; `unsigned`: none is signed (no
     * secret was configured when they were written); `not_checked`: signed, but no secret was
     * given to this verification.
     */
    readonly signatures: 'verified' | 'unsigned' | 'not_checked';
  };
}

/**
 * Walks the whole chain in seq order: seq gapless from 1, each entry's prev_hash the previous
 * entry's hash, each hash the SHA-256 of the entry's canonical serialization. Then every
 * checkpoint: it must name an entry with the same hash and, given the secret, carry its HMAC.
 * A chain re-computed after a change passes the first walk but not a signed checkpoint.
 */
export async function verifyAuditChain(store: AuditStore, secret: string | null): Promise<VerifyReport> {
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  let entries = 0;
  let broken: ChainBreak | null = null;
  /** seq → hash of every entry, kept only for the seqs that checkpoints name. */
  const checkpoints = await allCheckpoints(store);
  const marked = new Map<number, string>();
  const wanted = new Set(checkpoints.map((checkpoint) => checkpoint.seq));
  walk: for (let after = 0; ; ) {
    const page = await store.entriesAfter(after, PAGE);
    for (const entry of page) {
      entries++;
      if (entry.seq !== expectedSeq) {
        broken = { seq: expectedSeq, reason: entry.seq > expectedSeq ? `entry ${expectedSeq} is missing (the next one is ${entry.seq})` : `entry ${entry.seq} is out of order` };
        break walk;
      }
      if (entry.prev_hash !== previousHash) {
        broken = { seq: entry.seq, reason: 'prev_hash is not the hash of the entry before' };
        break walk;
      }
      const { hash, ...rest } = entry;
      if (entryHash(rest) !== hash) {
        broken = { seq: entry.seq, reason: 'the hash does not match the entry (its content was changed)' };
        break walk;
      }
      if (wanted.has(entry.seq)) marked.set(entry.seq, hash);
      previousHash = hash;
      expectedSeq++;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  const head = { seq: expectedSeq - 1, hash: previousHash };

  let signed = 0;
  for (const checkpoint of checkpoints) {
    if (broken !== null && checkpoint.seq >= broken.seq) break;
    const hash = marked.get(checkpoint.seq);
    if (hash === undefined) {
      broken = { seq: checkpoint.seq, reason: `checkpoint at ${checkpoint.seq} names an entry that is not in the chain` };
      break;
    }
    if (hash !== checkpoint.hash) {
      broken = { seq: checkpoint.seq, reason: `the chain differs from its checkpoint at ${checkpoint.seq} (entries up to it were changed)` };
      break;
    }
    if (checkpoint.signature === null) continue;
    signed++;
    if (secret !== null && !signatureMatches(secret, checkpoint.seq, checkpoint.hash, checkpoint.signature)) {
      broken = { seq: checkpoint.seq, reason: `the signature of checkpoint ${checkpoint.seq} is wrong (the chain up to it was re-computed, or the secret differs)` };
      break;
    }
  }
  const signatures = signed === 0 ? 'unsigned' : secret === null ? 'not_checked' : 'verified';
  return {
    ok: broken === null,
    entries,
    head,
    broken,
    checkpoints: { count: checkpoints.length, last: checkpoints[checkpoints.length - 1] ?? null, signatures },
  };
}

async function allCheckpoints(store: AuditStore): Promise<AuditCheckpoint[]> {
  const out: AuditCheckpoint[] = [];
  for (let after = 0; ; ) {
    const page = await store.checkpointsAfter(after, PAGE);
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.seq;
  }
}
