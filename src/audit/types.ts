/**
 * The audit log's vocabulary: what happened (an event, as recorded) and how it is kept (an
 * entry, an event with its place and hashes in the chain). docs/audit.md describes both.
 */

/** What happened. Admin actions name their object; `request` is one answered model call. */
export const AUDIT_KINDS = [
  'key.created',
  'key.updated',
  'key.revoked',
  'key.rotated',
  'team.created',
  'team.updated',
  'team.deleted',
  'config.reloaded',
  'request',
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

/** A JSON value as the canonical serialization knows it (no undefined, no NaN). */
export type AuditValue = string | number | boolean | null | readonly AuditValue[] | { readonly [name: string]: AuditValue };

/** One thing to record; the chain gives it seq and hashes when it is appended. */
export interface AuditEvent {
  /** Unique per event (a request row's id, or a random id): appending the same event twice keeps one. */
  readonly id: string;
  /** Epoch milliseconds when it happened. */
  readonly ts: number;
  readonly kind: AuditKind;
  /** `master`, `key:<id>` of an admin key, `system`, or null for requests (their key is in data). */
  readonly actor: string | null;
  /** The team the entry belongs to (what a team's admin key may read); null: only the master key sees it. */
  readonly team_id: string | null;
  /** What it happened to: a key id, team id, config, or the request id. */
  readonly subject: string | null;
  /** The details: changed fields of an admin action, metadata of a request. Never secrets or hashes. */
  readonly data: { readonly [name: string]: AuditValue };
}

/** An event in its place: `hash` = SHA-256 of the canonical serialization, which includes `prev_hash`. */
export interface AuditEntry extends AuditEvent {
  readonly seq: number;
  readonly prev_hash: string;
  readonly hash: string;
}

/** A signed (or, without a secret, unsigned) mark of the chain's head at some time. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly ts: number;
  readonly signature: string | null;
}
