import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { rowToRequest } from './rows.js';
import type { StoreSchema } from './schema.js';
import type { RequestRow } from './types.js';

/**
 * The searchable request log: filtered pages of request rows, newest first, with keyset
 * pagination on (ts, id). A cursor names the last row of a page; the next page holds the rows
 * strictly after it in that order. Unlike an offset, it neither repeats nor skips a row when rows
 * are written meanwhile, and a deep page costs what the first one does (an index seek).
 * Migration 0004 adds the indexes that make one filter plus a time range an index range.
 */

/** Which statuses: one status, a class (4xx: 400–499), or every request that ended in an error. */
export type StatusFilter =
  | { readonly kind: 'exact'; readonly status: number }
  | { readonly kind: 'class'; readonly min: number; readonly max: number }
  | { readonly kind: 'error' };

/** The position after which a page starts: the last row of the previous page. */
export interface RequestCursor {
  readonly ts: number;
  readonly id: string;
}

export interface RequestLogQuery {
  /** Epoch ms, inclusive; null: from the beginning. */
  readonly from: number | null;
  /** Epoch ms, exclusive; null: up to now. */
  readonly to: number | null;
  readonly keyId: string | null;
  readonly teamId: string | null;
  readonly alias: string | null;
  readonly deployment: string | null;
  readonly status: StatusFilter | null;
  readonly minLatencyMs: number | null;
  readonly maxLatencyMs: number | null;
  /** Prompt plus completion tokens, at least. */
  readonly minTokens: number | null;
  readonly minCostNanos: number | null;
  readonly after: RequestCursor | null;
  readonly limit: number;
}

export interface RequestLogPage {
  readonly rows: RequestRow[];
  /** Where the next page starts; null on the last page. */
  readonly next: RequestCursor | null;
}

/** An empty query: everything, newest first, `limit` rows. */
export function requestLogQuery(overrides: Partial<RequestLogQuery> = {}): RequestLogQuery {
  return {
    from: null,
    to: null,
    keyId: null,
    teamId: null,
    alias: null,
    deployment: null,
    status: null,
    minLatencyMs: null,
    maxLatencyMs: null,
    minTokens: null,
    minCostNanos: null,
    after: null,
    limit: 50,
    ...overrides,
  };
}

type RequestSelect = SelectQueryBuilder<StoreSchema, 'requests', object>;

export async function searchRequests(db: Kysely<StoreSchema>, query: RequestLogQuery): Promise<RequestLogPage> {
  let select = filtered(db.selectFrom('requests').selectAll(), query) as unknown as SelectQueryBuilder<StoreSchema, 'requests', Record<string, unknown>>;
  // One row more than asked tells whether there is a next page without a count.
  select = select.orderBy('ts', 'desc').orderBy('id', 'desc').limit(query.limit + 1);
  const found = await select.execute();
  const more = found.length > query.limit;
  const rows = (more ? found.slice(0, query.limit) : found).map((row) => rowToRequest(row as Parameters<typeof rowToRequest>[0]));
  const last = rows[rows.length - 1];
  return { rows, next: more && last !== undefined ? { ts: last.ts, id: last.id } : null };
}

export async function getRequest(db: Kysely<StoreSchema>, id: string): Promise<RequestRow | null> {
  const row = await db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : rowToRequest(row);
}

function filtered(select: RequestSelect, query: RequestLogQuery): RequestSelect {
  if (query.from !== null) select = select.where('ts', '>=', Math.ceil(query.from));
  if (query.to !== null) select = select.where('ts', '<', Math.ceil(query.to));
  const after = query.after;
  if (after !== null) {
    // Written as a bound on ts plus a tie-break, so that both databases seek the ts index to it.
    select = select.where('ts', '<=', after.ts).where((eb) => eb.or([eb('ts', '<', after.ts), eb('id', '<', after.id)]));
  }
  if (query.keyId !== null) select = select.where('key_id', '=', query.keyId);
  if (query.teamId !== null) select = select.where('team_id', '=', query.teamId);
  if (query.alias !== null) select = select.where('alias', '=', query.alias);
  if (query.deployment !== null) select = select.where('deployment', '=', query.deployment);
  const status = query.status;
  if (status !== null) {
    if (status.kind === 'exact') select = select.where('status', '=', status.status);
    else if (status.kind === 'class') select = select.where('status', '>=', status.min).where('status', '<=', status.max);
    else select = select.where('error_code', 'is not', null);
  }
  if (query.minLatencyMs !== null) select = select.where('latency_ms', '>=', query.minLatencyMs);
  if (query.maxLatencyMs !== null) select = select.where('latency_ms', '<=', query.maxLatencyMs);
  if (query.minTokens !== null) select = select.where(sql<number>`prompt_tokens + completion_tokens`, '>=', query.minTokens);
  if (query.minCostNanos !== null) select = select.where('cost_nanos', '>=', Math.ceil(query.minCostNanos));
  return select;
}

/** A cursor as the API hands it out: opaque (base64url of the JSON pair), checked when it comes back. */
export function encodeCursor(cursor: RequestCursor): string {
  return Buffer.from(JSON.stringify([cursor.ts, cursor.id]), 'utf8').toString('base64url');
}

/** The cursor, or null when the text is not one this API made. */
export function decodeCursor(text: string): RequestCursor | null {
  if (text.length === 0 || text.length > 400 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [ts, id] = value as unknown[];
    if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || typeof id !== 'string' || id.length === 0 || id.length > 200) return null;
    return { ts, id };
  } catch {
    return null;
  }
}
