import { sql, type Kysely } from 'kysely';
import type { StoreSchema } from './schema.js';

/**
 * The dashboard's queries over the request log: time buckets with counts, errors, money,
 * energy and latency percentiles, and spend per key or team since a time. Everything is
 * aggregated in SQL (SQLite and Postgres alike), so a range of millions of rows returns a few
 * thousand numbers rather than its rows.
 *
 * Percentiles come from per-bucket histograms with log-spaced bins: bin k holds values v with
 * (1 + v) in [B^k, B^(k+1)), B = 2^(1/8). A percentile is the geometric middle of the bin where
 * it falls, clamped to the bucket's exact minimum and maximum, so it is within ±4.5% of the exact
 * (nearest-rank) value, plus under 1 ms near zero.
 */

export const HISTOGRAM_BASE = 2 ** (1 / 8);
const INVERSE_LN_BASE = 1 / Math.log(HISTOGRAM_BASE);

export interface StatsQuery {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  readonly bucketMs: number;
  /** Only this team's requests; null: all. */
  readonly teamId: string | null;
}

export interface StatsBucket {
  /** Epoch ms of the bucket's start. */
  readonly start: number;
  readonly requests: number;
  readonly errors: number;
  readonly costNanos: number;
  readonly energyWh: number;
  readonly co2eUg: number;
  readonly latencyP50: number | null;
  readonly latencyP99: number | null;
  readonly ttftP50: number | null;
  readonly ttftP99: number | null;
}

/** A request counts as an error when it was answered with a status of 400 or more, except 499 (the client left). */
const IS_ERROR = sql<number>`case when status >= 400 and status <> 499 then 1 else 0 end`;

/**
 * The buckets of [from, to), every one of them (empty ones with zeros), oldest first. Two scans
 * of the range: one grouped by (bucket, latency bin) carrying the sums, one by (bucket, TTFT bin).
 */
export async function queryStatsBuckets(db: Kysely<StoreSchema>, query: StatsQuery): Promise<StatsBucket[]> {
  const bucketMs = Math.floor(query.bucketMs);
  const [latency, ttft] = await Promise.all([histogram(db, query, bucketMs, 'latency_ms'), histogram(db, query, bucketMs, 'ttft_ms')]);
  const out: StatsBucket[] = [];
  const last = Math.floor((Math.ceil(query.to) - 1) / bucketMs);
  for (let b = Math.floor(Math.ceil(query.from) / bucketMs); b <= last; b++) {
    const lat = latency.get(b);
    const first = ttft.get(b);
    out.push({
      start: b * bucketMs,
      requests: lat?.count ?? 0,
      errors: lat?.errors ?? 0,
      costNanos: lat?.costNanos ?? 0,
      energyWh: lat?.energyWh ?? 0,
      co2eUg: lat?.co2eUg ?? 0,
      latencyP50: percentile(lat, 0.5),
      latencyP99: percentile(lat, 0.99),
      ttftP50: percentile(first, 0.5),
      ttftP99: percentile(first, 0.99),
    });
  }
  return out;
}

/** One bucket's histogram of a duration, with its exact extremes and (for latency, which every row has) the bucket's sums. */
export interface BucketHistogram {
  /** Bins ascending. */
  readonly bins: { bin: number; count: number }[];
  count: number;
  min: number;
  max: number;
  errors: number;
  costNanos: number;
  energyWh: number;
  co2eUg: number;
}

async function histogram(db: Kysely<StoreSchema>, query: StatsQuery, bucketMs: number, column: 'latency_ms' | 'ttft_ms'): Promise<Map<number, BucketHistogram>> {
  const bucket = sql<number>`ts / ${sql.lit(bucketMs)}`;
  // cast(… as double precision): REAL on SQLite, float8 on Postgres, so ln() is the same function on both.
  // Negative durations cannot be logged, but Postgres's ln() would fail on them: read as 0.
  const value = sql`case when ${sql.ref(column)} > 0 then cast(${sql.ref(column)} as double precision) else 0 end`;
  const bin = sql<number>`cast(floor(ln(${value} + 1) * ${sql.lit(INVERSE_LN_BASE)}) as integer)`;
  const withSums = column === 'latency_ms';
  let select = db
    .selectFrom('requests')
    .select([
      bucket.as('b'),
      bin.as('bin'),
      sql<unknown>`count(*)`.as('n'),
      sql<unknown>`min(${sql.ref(column)})`.as('lo'),
      sql<unknown>`max(${sql.ref(column)})`.as('hi'),
      (withSums ? sql<unknown>`coalesce(sum(${IS_ERROR}), 0)` : sql<unknown>`0`).as('errors'),
      (withSums ? sql<unknown>`coalesce(sum(cost_nanos), 0)` : sql<unknown>`0`).as('cost_nanos'),
      (withSums ? sql<unknown>`coalesce(sum(energy_wh), 0)` : sql<unknown>`0`).as('energy_wh'),
      (withSums ? sql<unknown>`coalesce(sum(co2e_ug), 0)` : sql<unknown>`0`).as('co2e_ug'),
    ])
    .where('ts', '>=', Math.ceil(query.from))
    .where('ts', '<', Math.ceil(query.to));
  if (!withSums) select = select.where(column, 'is not', null);
  if (query.teamId !== null) select = select.where('team_id', '=', query.teamId);
  const rows = await select.groupBy([bucket, bin]).execute();
  const out = new Map<number, BucketHistogram>();
  for (const row of rows) {
    const b = Number(row.b);
    let h = out.get(b);
    if (h === undefined) {
      h = { bins: [], count: 0, min: Infinity, max: -Infinity, errors: 0, costNanos: 0, energyWh: 0, co2eUg: 0 };
      out.set(b, h);
    }
    const count = Number(row.n);
    h.count += count;
    if (row.bin !== null) h.bins.push({ bin: Number(row.bin), count });
    h.min = Math.min(h.min, Number(row.lo));
    h.max = Math.max(h.max, Number(row.hi));
    // Postgres sums bigint as numeric (a string here): exact while below 2^53.
    h.errors += Number(row.errors);
    h.costNanos += Number(row.cost_nanos);
    h.energyWh += Number(row.energy_wh);
    h.co2eUg += Number(row.co2e_ug);
  }
  for (const h of out.values()) h.bins.sort((x, y) => x.bin - y.bin);
  return out;
}

/** The nearest-rank q-quantile from a histogram: its bin's geometric middle, clamped to the bucket's [min, max]. */
export function percentile(histogram: BucketHistogram | undefined, q: number): number | null {
  if (histogram === undefined || histogram.bins.length === 0) return null;
  let total = 0;
  for (const { count } of histogram.bins) total += count;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const { bin, count } of histogram.bins) {
    seen += count;
    if (seen < rank) continue;
    const value = Math.min(histogram.max, Math.max(histogram.min, HISTOGRAM_BASE ** (bin + 0.5) - 1));
    return Math.round(value * 10) / 10;
  }
  return null;
}

/** Sum of cost since `since` and since `dayStart` (≥ since), in nano-USD, for one team or all. */
export async function querySpend(
  db: Kysely<StoreSchema>,
  teamId: string | null,
  since: number,
  dayStart: number,
): Promise<{ sinceNanos: number; dayNanos: number }> {
  let select = db
    .selectFrom('requests')
    .select([
      sql<unknown>`coalesce(sum(cost_nanos), 0)`.as('since'),
      sql<unknown>`coalesce(sum(case when ts >= ${Math.ceil(dayStart)} then cost_nanos else 0 end), 0)`.as('day'),
    ])
    .where('ts', '>=', Math.ceil(since));
  if (teamId !== null) select = select.where('team_id', '=', teamId);
  const row = await select.executeTakeFirstOrThrow();
  return { sinceNanos: Number(row.since), dayNanos: Number(row.day) };
}

/** Spend in nano-USD per key or per team since `since` (one grouped query). */
export async function querySpendBy(
  db: Kysely<StoreSchema>,
  scope: 'key' | 'team',
  since: number,
  teamId: string | null,
): Promise<Map<string, number>> {
  const column = scope === 'key' ? 'key_id' : 'team_id';
  let select = db
    .selectFrom('requests')
    .select([sql.ref<string | null>(column).as('id'), sql<unknown>`coalesce(sum(cost_nanos), 0)`.as('spend')])
    .where('ts', '>=', Math.ceil(since))
    .where(column, 'is not', null);
  if (teamId !== null) select = select.where('team_id', '=', teamId);
  const rows = await select.groupBy(column).execute();
  return new Map(rows.map((row) => [String(row.id), Number(row.spend)]));
}

/** Requests per (alias, deployment) since `since`, for the share of traffic each deployment took. */
export async function queryTraffic(db: Kysely<StoreSchema>, since: number): Promise<Map<string, Map<string, number>>> {
  const rows = await db
    .selectFrom('requests')
    .select(['alias', 'deployment', sql<unknown>`count(*)`.as('n')])
    .where('ts', '>=', Math.ceil(since))
    .where('alias', 'is not', null)
    .where('deployment', 'is not', null)
    .groupBy(['alias', 'deployment'])
    .execute();
  const out = new Map<string, Map<string, number>>();
  for (const row of rows) {
    let byDeployment = out.get(row.alias!);
    if (byDeployment === undefined) out.set(row.alias!, (byDeployment = new Map()));
    byDeployment.set(row.deployment!, Number(row.n));
  }
  return out;
}
