import type { Insertable, Selectable } from 'kysely';
import type { BudgetPeriod, KeyRecord, KeyRole, KeyState, TeamRecord } from '../guard/types.js';
import type { KeysTable, RequestsTable, SqlDialectName, TeamsTable } from './schema.js';
import type { AttemptRecord, RequestRow } from './types.js';

/** Records ↔ table rows. The only place that knows how a field is stored. */

function toJson(value: unknown): string {
  return JSON.stringify(value);
}

function toNullableJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** SQLite hands back the JSON text, Postgres (JSONB) the parsed value. */
function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function teamToRow(team: TeamRecord): Insertable<TeamsTable> {
  return {
    id: team.id,
    name: team.name,
    models: toNullableJson(team.models),
    metadata: toJson(team.metadata ?? {}),
    data_policy: toNullableJson(team.data_policy),
    state: team.state,
    rpm: team.rpm,
    tpm: team.tpm,
    max_parallel: team.max_parallel,
    budget: team.budget,
    budget_period: team.budget_period,
    created_at: team.created_at,
    updated_at: team.updated_at,
  };
}

export function rowToTeam(row: Selectable<TeamsTable>): TeamRecord {
  return {
    id: row.id,
    name: row.name,
    models: fromJson(row.models) as string[] | null,
    metadata: (fromJson(row.metadata) ?? {}) as Record<string, unknown>,
    data_policy: (fromJson(row.data_policy) ?? null) as Record<string, unknown> | null,
    state: row.state as TeamRecord['state'],
    rpm: numOrNull(row.rpm),
    tpm: numOrNull(row.tpm),
    max_parallel: numOrNull(row.max_parallel),
    budget: numOrNull(row.budget),
    budget_period: row.budget_period as BudgetPeriod,
    created_at: num(row.created_at),
    updated_at: num(row.updated_at),
  };
}

export function keyToRow(key: KeyRecord): Insertable<KeysTable> {
  return {
    id: key.id,
    hash: key.hash,
    prefix: key.prefix,
    name: key.name,
    team_id: key.team_id,
    role: key.role,
    models: toNullableJson(key.models),
    expires_at: key.expires_at,
    metadata: toJson(key.metadata ?? {}),
    data_policy: toNullableJson(key.data_policy),
    state: key.state,
    rpm: key.rpm,
    tpm: key.tpm,
    max_parallel: key.max_parallel,
    budget: key.budget,
    budget_period: key.budget_period,
    created_at: key.created_at,
    updated_at: key.updated_at,
    previous_hash: key.previous_hash,
    previous_expires_at: key.previous_expires_at,
  };
}

export function rowToKey(row: Selectable<KeysTable>): KeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    prefix: row.prefix,
    name: row.name,
    team_id: row.team_id,
    role: row.role as KeyRole,
    models: fromJson(row.models) as string[] | null,
    expires_at: numOrNull(row.expires_at),
    metadata: (fromJson(row.metadata) ?? {}) as Record<string, unknown>,
    data_policy: fromJson(row.data_policy) as Record<string, unknown> | null,
    state: row.state as KeyState,
    rpm: numOrNull(row.rpm),
    tpm: numOrNull(row.tpm),
    max_parallel: numOrNull(row.max_parallel),
    budget: numOrNull(row.budget),
    budget_period: row.budget_period as BudgetPeriod,
    created_at: num(row.created_at),
    updated_at: num(row.updated_at),
    previous_hash: row.previous_hash,
    previous_expires_at: numOrNull(row.previous_expires_at),
  };
}

const INT32_MAX = 2_147_483_647;

/** A whole number for an INTEGER column: rounded, clamped, never NaN (0). */
function int32(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, Math.round(value)));
}

/** A whole number for a BIGINT column, within JS's exact range. */
function int64(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.round(value)));
}

/** Postgres text cannot hold NUL; a client-chosen alias must not make a batch unwritable. */
function text(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}

function textOrNull(value: string | null): string | null {
  return value === null || value === undefined ? null : text(String(value));
}

/**
 * A request row as written. Every value is made storable (whole numbers in range, no NUL), so
 * that no single odd row can make a batch fail forever and hold up the writer behind it.
 */
export function requestToRow(row: RequestRow, dialect: SqlDialectName): Insertable<RequestsTable> {
  return {
    id: text(String(row.id)),
    ts: int64(row.ts),
    key_id: textOrNull(row.key_id),
    team_id: textOrNull(row.team_id),
    alias: textOrNull(row.alias),
    deployment: textOrNull(row.deployment),
    endpoint: text(String(row.endpoint ?? '')),
    status: int32(row.status),
    stream: dialect === 'sqlite' ? (row.stream ? 1 : 0) : Boolean(row.stream),
    prompt_tokens: int32(row.prompt_tokens),
    completion_tokens: int32(row.completion_tokens),
    cost_nanos: int64(row.cost_nanos),
    latency_ms: int32(row.latency_ms),
    ttft_ms: row.ttft_ms === null || row.ttft_ms === undefined ? null : int32(row.ttft_ms),
    error_code: textOrNull(row.error_code),
    energy_wh: row.energy_wh === null || row.energy_wh === undefined || !Number.isFinite(row.energy_wh) ? null : row.energy_wh,
    co2e_ug: row.co2e_ug === null || row.co2e_ug === undefined ? null : int64(row.co2e_ug),
    usage_estimated: dialect === 'sqlite' ? (row.usage_estimated === true ? 1 : 0) : row.usage_estimated === true,
    region: textOrNull(row.region ?? null),
    pii_types: row.pii_types === null || row.pii_types === undefined || Object.keys(row.pii_types).length === 0 ? null : toJson(row.pii_types),
    attempts: row.attempts === null || row.attempts === undefined || row.attempts.length === 0 ? null : toJson(row.attempts),
  };
}

export function rowToRequest(row: Selectable<RequestsTable>): RequestRow {
  return {
    id: row.id,
    ts: num(row.ts),
    key_id: row.key_id,
    team_id: row.team_id,
    alias: row.alias,
    deployment: row.deployment,
    endpoint: row.endpoint,
    status: num(row.status),
    stream: row.stream === true || row.stream === 1,
    prompt_tokens: num(row.prompt_tokens),
    completion_tokens: num(row.completion_tokens),
    cost_nanos: num(row.cost_nanos),
    latency_ms: num(row.latency_ms),
    ttft_ms: numOrNull(row.ttft_ms),
    error_code: row.error_code,
    energy_wh: numOrNull(row.energy_wh),
    co2e_ug: numOrNull(row.co2e_ug),
    usage_estimated: row.usage_estimated === true || row.usage_estimated === 1,
    region: row.region ?? null,
    pii_types: (fromJson(row.pii_types) ?? null) as Record<string, number> | null,
    attempts: (fromJson(row.attempts) ?? null) as AttemptRecord[] | null,
  };
}
