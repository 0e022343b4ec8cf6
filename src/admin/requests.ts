import { GatewayError } from '../core/errors.js';
import type { Identity } from '../guard/keys.js';
import { fromNanos, toNanos } from '../guard/types.js';
import { decodeCursor, encodeCursor, requestLogQuery, type RequestLogQuery, type StatusFilter } from '../store/request-log.js';
import type { RequestRow } from '../store/types.js';
import type { GovernanceService } from './service.js';

/**
 * GET /admin/requests and /admin/requests/{id}: the request log, searched (docs/observability.md).
 * Query parameters are checked one by one, and a bad one is a 400 that names it.
 */

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/** The parameters /admin/requests understands; anything else is refused rather than ignored. */
const PARAMETERS = new Set([
  'from',
  'to',
  'key',
  'team',
  'alias',
  'deployment',
  'status',
  'min_latency_ms',
  'max_latency_ms',
  'min_tokens',
  'min_cost_usd',
  'cursor',
  'limit',
]);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export async function listRequests(service: GovernanceService, actor: Identity, params: URLSearchParams): Promise<unknown> {
  const query = parseRequestLogQuery(params);
  const page = await service.searchRequests(actor, query);
  return {
    object: 'list',
    data: page.rows.map((row) => requestView(row, false)),
    has_more: page.next !== null,
    next_cursor: page.next === null ? null : encodeCursor(page.next),
  };
}

export async function requestDetail(service: GovernanceService, actor: Identity, id: string): Promise<unknown> {
  return requestView(await service.getRequest(actor, id), true);
}

/** The query parameters as a store query; throws a 400 naming the first bad one. */
export function parseRequestLogQuery(params: URLSearchParams): RequestLogQuery {
  for (const name of new Set(params.keys())) {
    if (!PARAMETERS.has(name)) invalid(name, `Unknown parameter "${name}"; known: ${[...PARAMETERS].join(', ')}.`);
    if (params.getAll(name).length > 1) invalid(name, `${name} is given more than once.`);
  }
  const from = time(params, 'from');
  const to = time(params, 'to');
  if (from !== null && to !== null && from >= to) invalid('from', 'from must be before to.');
  const minLatencyMs = whole(params, 'min_latency_ms');
  const maxLatencyMs = whole(params, 'max_latency_ms');
  if (minLatencyMs !== null && maxLatencyMs !== null && minLatencyMs > maxLatencyMs) invalid('min_latency_ms', 'min_latency_ms must not exceed max_latency_ms.');
  const minCost = params.get('min_cost_usd');
  let minCostNanos: number | null = null;
  if (minCost !== null) {
    const usd = Number(minCost);
    if (minCost.trim() === '' || !Number.isFinite(usd) || usd < 0) invalid('min_cost_usd', 'min_cost_usd must be a non-negative number of USD.');
    minCostNanos = toNanos(usd);
  }
  const cursorText = params.get('cursor');
  const after = cursorText === null ? null : decodeCursor(cursorText);
  if (cursorText !== null && after === null) invalid('cursor', 'cursor is not one this API handed out (use next_cursor of a previous page).');
  const limit = whole(params, 'limit') ?? DEFAULT_PAGE;
  if (limit < 1 || limit > MAX_PAGE) invalid('limit', `limit must be between 1 and ${MAX_PAGE}.`);
  return requestLogQuery({
    from,
    to,
    keyId: text(params, 'key'),
    teamId: text(params, 'team'),
    alias: text(params, 'alias'),
    deployment: text(params, 'deployment'),
    status: statusFilter(params.get('status')),
    minLatencyMs,
    maxLatencyMs,
    minTokens: whole(params, 'min_tokens'),
    minCostNanos,
    after,
    limit,
  });
}

/** `200` (one status), `4xx` (a class), or `error` (every request that ended with an error code). */
function statusFilter(value: string | null): StatusFilter | null {
  if (value === null) return null;
  if (value === 'error') return { kind: 'error' };
  if (/^[1-5]xx$/.test(value)) {
    const hundred = Number(value[0]) * 100;
    return { kind: 'class', min: hundred, max: hundred + 99 };
  }
  if (/^[1-5]\d\d$/.test(value)) return { kind: 'exact', status: Number(value) };
  return invalid('status', 'status must be a status (200), a class (2xx, 4xx, 5xx) or "error".');
}

function time(params: URLSearchParams, name: string): number | null {
  const value = params.get(name);
  if (value === null) return null;
  const ms = ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) invalid(name, `${name} must be an ISO 8601 time with a zone, e.g. 2026-03-01T12:00:00Z.`);
  return ms;
}

function whole(params: URLSearchParams, name: string): number | null {
  const value = params.get(name);
  if (value === null) return null;
  if (!/^\d{1,15}$/.test(value)) invalid(name, `${name} must be a whole number ≥ 0.`);
  return Number(value);
}

function text(params: URLSearchParams, name: string): string | null {
  const value = params.get(name);
  if (value === null) return null;
  if (value.length === 0 || value.length > 200) invalid(name, `${name} must be 1 to 200 characters.`);
  return value;
}

function invalid(param: string, message: string): never {
  throw new GatewayError('invalid_request', { message, param });
}

/** A row as the API shows it: times in ISO 8601, money in USD, CO₂e in grams; attempts in the detail. */
function requestView(row: RequestRow, detail: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: row.id,
    created_at: new Date(row.ts).toISOString(),
    key_id: row.key_id,
    team_id: row.team_id,
    alias: row.alias,
    deployment: row.deployment,
    region: row.region ?? null,
    endpoint: row.endpoint,
    status: row.status,
    error_code: row.error_code,
    stream: row.stream,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    usage_estimated: row.usage_estimated ?? false,
    cost_usd: fromNanos(row.cost_nanos),
    energy_wh: row.energy_wh ?? null,
    co2e_g: row.co2e_ug === null || row.co2e_ug === undefined ? null : row.co2e_ug / 1e6,
    latency_ms: row.latency_ms,
    ttft_ms: row.ttft_ms,
    pii_types: row.pii_types ?? null,
    attempt_count: row.attempts?.length ?? 0,
  };
  if (detail) view.attempts = row.attempts ?? [];
  return view;
}
