import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEntry, AuditValue } from './types.js';

/**
 * The byte format the audit chain hashes, kept here and in docs/audit.md in the same words so that
 * an auditor can re-compute every hash with any JSON library. It is RFC 8785 (JSON
 * Canonicalization Scheme) for the values entries hold: object members sorted by their names'
 * UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes
 * them. Written out rather than taken from a package because these few lines are the
 * specification: their output must never change with a dependency's version.
 */
export function canonicalJson(value: AuditValue): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('audit values must be finite numbers');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: AuditValue) => canonicalJson(item)).join(',')}]`;
  const record = value as { readonly [name: string]: AuditValue };
  const names = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort();
  return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalJson(record[name]!)}`).join(',')}}`;
}

/** The hash of the entry before the first one. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an entry's hash covers: every stored field but the hash itself. */
export function entryPreimage(entry: Omit<AuditEntry, 'hash'>): string {
  return canonicalJson({
    actor: entry.actor,
    data: entry.data,
    id: entry.id,
    kind: entry.kind,
    prev_hash: entry.prev_hash,
    seq: entry.seq,
    subject: entry.subject,
    team_id: entry.team_id,
    ts: entry.ts,
  });
}

/** SHA-256 of the entry's canonical serialization, lower-case hex. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(entryPreimage(entry), 'utf8').digest('hex');
}

/** HMAC-SHA256 with the audit secret over `<seq>:<hash>` (seq in decimal), lower-case hex. */
export function checkpointSignature(secret: string, seq: number, hash: string): string {
  return createHmac('sha256', secret).update(`${seq}:${hash}`, 'utf8').digest('hex');
}

export function signatureMatches(secret: string, seq: number, hash: string, signature: string): boolean {
  const expected = Buffer.from(checkpointSignature(secret, seq, hash), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
