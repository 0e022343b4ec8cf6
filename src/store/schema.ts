import type { ColumnType } from 'kysely';

/**
 * The tables as Kysely sees them. Read types are what both drivers hand back after our
 * adjustments (pg's int8 parsed to number, see open-store.ts); JSON columns read as `unknown`
 * because SQLite returns the text and Postgres the parsed JSONB value, and are always written as
 * JSON text. Booleans are written as 0/1 on SQLite (better-sqlite3 binds no booleans).
 */
type Json = ColumnType<unknown, string, string>;
type NullableJson = ColumnType<unknown, string | null, string | null>;
type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface LimitColumns {
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget: number | null;
  budget_period: string;
}

export interface TeamsTable extends LimitColumns {
  id: string;
  name: string;
  models: NullableJson;
  metadata: Json;
  /** Migration 0003: the team's data policy (privacy, residency, log_bodies); nullable. */
  data_policy: ColumnType<unknown, string | null | undefined, string | null>;
  state: string;
  created_at: number;
  updated_at: number;
}

export interface KeysTable extends LimitColumns {
  id: string;
  hash: string;
  prefix: string;
  name: string | null;
  team_id: string | null;
  role: string;
  models: NullableJson;
  expires_at: number | null;
  metadata: Json;
  data_policy: NullableJson;
  state: string;
  created_at: number;
  updated_at: number;
  previous_hash: string | null;
  previous_expires_at: number | null;
}

export interface RequestsTable {
  id: string;
  ts: number;
  key_id: string | null;
  team_id: string | null;
  alias: string | null;
  deployment: string | null;
  endpoint: string;
  status: number;
  stream: Bool;
  prompt_tokens: number;
  completion_tokens: number;
  cost_nanos: number;
  latency_ms: number;
  ttft_ms: number | null;
  error_code: string | null;
  /** Migration 0002 (accounting): nullable / defaulted, so older replicas' inserts still work. */
  energy_wh: ColumnType<number | null, number | null | undefined, number | null>;
  co2e_ug: ColumnType<number | null, number | null | undefined, number | null>;
  usage_estimated: ColumnType<boolean | number, boolean | number | undefined, boolean | number>;
  /** Migration 0003 (audit): the deployment's region and the PII types found (names and counts). */
  region: ColumnType<string | null, string | null | undefined, string | null>;
  pii_types: ColumnType<unknown, string | null | undefined, string | null>;
  /** Migration 0004 (request log): the request's upstream attempts, JSON; nullable. */
  attempts: ColumnType<unknown, string | null | undefined, string | null>;
}

/** Migration 0003: the hash-chained audit log (docs/audit.md). `data` is canonical JSON text. */
export interface AuditEntriesTable {
  seq: number;
  id: string;
  ts: number;
  kind: string;
  actor: string | null;
  team_id: string | null;
  subject: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  ts: number;
  /** HMAC-SHA256 over (seq, hash), hex; null when no secret was configured. */
  signature: string | null;
}

/** Migration 0003: prompts and completions, PII redacted, of requests under a `log_bodies` policy. */
export interface RequestBodiesTable {
  request_id: string;
  ts: number;
  team_id: string | null;
  prompt: Json;
  completion: string | null;
}

export interface StoreSchema {
  teams: TeamsTable;
  keys: KeysTable;
  requests: RequestsTable;
  audit_entries: AuditEntriesTable;
  audit_checkpoints: AuditCheckpointsTable;
  request_bodies: RequestBodiesTable;
}

export type SqlDialectName = 'sqlite' | 'postgres';
