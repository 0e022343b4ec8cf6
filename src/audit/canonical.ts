import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { AuditEntry, AuditValue } from './types.js';
import { jsonString } from '../core/json-string.js';

/**
 * The byte format the audit chain hashes, kept here and in docs/audit.md in the same words so that
 * an auditor can re-compute every hash with any JSON library. It is RFC 8785 (JSON
 * Canonicalization Scheme) for the values entries hold: object members sorted by their names'
 * UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes
 * them. Written out rather than taken from a package because these few lines are the
 * specification: their output must never change with a dependency's version.
 */
export function canonicalJson(value: AuditValue): string {
  if (value === null || typeof value !== 'object') return scalarJson(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i] as AuditValue);
    return text + ']';
  }
  const record = value as { readonly [name: string]: AuditValue };
  const names = Object.keys(record);
  // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 asks. Objects made in that
  // order (the writer's request entries) skip the sort.
  if (!inOrder(names)) names.sort();
  let text = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const member = record[name];
    if (member === undefined) continue;
    text += (text.length === 1 ? '' : ',') + jsonString(name) + ':' + canonicalJson(member);
  }
  return text + '}';
}

function inOrder(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return false;
  return true;
}

/** JSON.stringify's text of a scalar, without its call: a finite number's is String's (-0 too gives "0"). */
function scalarJson(value: string | number | boolean | null): string {
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('audit values must be finite numbers');
    return String(value);
  }
  if (value === null) return 'null';
  return value ? 'true' : 'false';
}

/** The hash of the entry before the first one. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an entry's hash covers: every stored field but the hash itself. */
export function entryPreimage(entry: Omit<AuditEntry, 'hash'>): string {
  return preimageWithData(entry, entry.seq, entry.prev_hash, canonicalJson(entry.data));
}

/** The fields of an entry that its preimage takes as they are (`data`, seq and prev_hash come apart). */
export type PreimageFields = Pick<AuditEntry, 'actor' | 'id' | 'kind' | 'subject' | 'team_id' | 'ts'>;

/**
 * entryPreimage with the entry's `data` already in canonical JSON (`dataJson`), for the writer
 * that stores that text too and need not make it twice. The members are written out in their
 * canonical order (actor, data, id, kind, prev_hash, seq, subject, team_id, ts): the same text as
 * canonicalJson of the whole record.
 */
export function preimageWithData(entry: PreimageFields, seq: number, prevHash: string, dataJson: string): string {
  return (
    '{"actor":' +
    scalarJson(entry.actor) +
    ',"data":' +
    dataJson +
    ',"id":' +
    scalarJson(entry.id) +
    ',"kind":' +
    scalarJson(entry.kind) +
    ',"prev_hash":' +
    scalarJson(prevHash) +
    ',"seq":' +
    scalarJson(seq) +
    ',"subject":' +
    scalarJson(entry.subject) +
    ',"team_id":' +
    scalarJson(entry.team_id) +
    ',"ts":' +
    scalarJson(entry.ts) +
    '}'
  );
}

/** SHA-256 of the entry's canonical serialization, lower-case hex. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(entryPreimage(entry));
}

export function sha256Hex(text: string): string {
  // The one-shot form: no Hash object per entry.
  return hash('sha256', text, 'hex');
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
