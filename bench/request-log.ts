/**
 * `npm run bench:requests [-- rows]`: how fast the request log search (GET /admin/requests)
 * answers over `rows` generated rows (default 1,000,000), on SQLite (a temp file) and on Postgres
 * (a scratch database, created and dropped; skipped if it cannot be reached). Prints the insert
 * rate and, per typical query, the median and the worst of 5 runs as a table.
 *
 * Environment: BENCH_POSTGRES_URL (a database the user may CREATE DATABASE from; default
 * postgres://postgres@127.0.0.1:5432/test).
 */
import { sql } from 'kysely';
import { requestLogQuery, type RequestLogQuery } from '../src/store/request-log.js';
import type { SqlGovernanceStore } from '../src/store/sql-store.js';
import type { RequestRow } from '../src/store/types.js';
import { benchRandom, onEachStore, rowCountArg, time } from './lib/store-bench.js';

const DAY = 86_400_000;
const RUNS = 5;
const BATCH = 5_000;
const END = Date.UTC(2026, 0, 31);
const ALIASES = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-3-70b', 'mistral-large', 'embed'];

/** Deterministic rows over 60 days: 20 teams of 10 keys, 6 aliases, 8 deployments, 2% 502 and 1% 429. */
function* batches(count: number): Generator<RequestRow[]> {
  const random = benchRandom();
  for (let start = 0; start < count; start += BATCH) {
    const rows: RequestRow[] = [];
    for (let index = start; index < Math.min(count, start + BATCH); index++) {
      const team = Math.floor(random() * 20);
      const roll = random();
      const status = roll < 0.02 ? 502 : roll < 0.03 ? 429 : 200;
      rows.push({
        id: `${index.toString(16).padStart(8, '0')}-bench-${Math.floor(random() * 1e9).toString(36)}`,
        ts: END - Math.floor(random() * 60 * DAY),
        key_id: `key-${team}-${Math.floor(random() * 10)}`,
        team_id: `team-${team}`,
        alias: ALIASES[Math.floor(random() * ALIASES.length)]!,
        deployment: `dep-${Math.floor(random() * 8)}`,
        endpoint: 'chat',
        status,
        stream: random() < 0.5,
        prompt_tokens: Math.floor(random() * 4_000),
        completion_tokens: status === 200 ? Math.floor(random() * 1_000) : 0,
        cost_nanos: status === 200 ? Math.floor(random() * 50_000_000) : 0,
        latency_ms: Math.floor(random() * 3_000),
        ttft_ms: Math.floor(random() * 500),
        error_code: status === 502 ? 'upstream_error' : status === 429 ? 'rate_limited' : null,
        attempts: status === 200 ? null : [{ deployment: 'dep-0', status, error_code: 'upstream_error', latency_ms: 12 }],
      });
    }
    yield rows;
  }
}

const WEEK = { from: END - 7 * DAY, to: END };

/** The typical questions: one filter plus a week, and a page deep down the log. */
const QUERIES: [string, RequestLogQuery][] = [
  ['first page, no filter', requestLogQuery()],
  ['week, by key', requestLogQuery({ ...WEEK, keyId: 'key-7-3' })],
  ['week, by team + 5xx', requestLogQuery({ ...WEEK, teamId: 'team-3', status: { kind: 'class', min: 500, max: 599 } })],
  ['week, by alias + latency', requestLogQuery({ ...WEEK, alias: 'llama-3-70b', minLatencyMs: 2_500, maxLatencyMs: 2_600 })],
  ['week, by deployment', requestLogQuery({ ...WEEK, deployment: 'dep-5' })],
  ['week, status 429', requestLogQuery({ ...WEEK, status: { kind: 'exact', status: 429 } })],
  ['week, errors', requestLogQuery({ ...WEEK, status: { kind: 'error' } })],
  ['week, min tokens 4900', requestLogQuery({ ...WEEK, minTokens: 4_900 })],
  ['deep cursor (day 30)', requestLogQuery({ after: { ts: END - 30 * DAY, id: 'zzzz' } })],
  ['deep cursor, by team', requestLogQuery({ teamId: 'team-11', after: { ts: END - 45 * DAY, id: 'zzzz' } })],
];

async function measure(label: string, store: SqlGovernanceStore, count: number): Promise<void> {
  const [insertMs] = await time(async () => {
    for (const rows of batches(count)) await store.insertRequests(rows);
  });
  if (store.kind === 'postgres') await sql`ANALYZE requests`.execute(store.db);
  else await sql`ANALYZE`.execute(store.db);
  console.log(`\n${label}: inserted ${count} rows in ${(insertMs / 1000).toFixed(1)} s (${((count / insertMs) * 1_000).toFixed(0)} rows/s)`);
  console.log('| query | rows | median ms | max ms |');
  console.log('|---|---:|---:|---:|');
  for (const [name, query] of QUERIES) {
    const times: number[] = [];
    let found = 0;
    for (let run = 0; run < RUNS; run += 1) {
      const [ms, page] = await time(() => store.searchRequests(query));
      times.push(ms);
      found = page.rows.length;
    }
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${found} | ${times[Math.floor(RUNS / 2)]!.toFixed(1)} | ${times[RUNS - 1]!.toFixed(1)} |`);
  }
}

async function main(): Promise<void> {
  const count = rowCountArg(1_000_000);
  await onEachStore('request-log', (label, store) => measure(label, store, count));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
