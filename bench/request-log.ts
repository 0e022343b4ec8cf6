/**
 * `npm run bench:requests [-- rows]`: how fast the request log search (GET /admin/requests)
 * answers over `rows` generated rows (default 1,000,000), on SQLite (a temp file) and on Postgres
 * (a scratch database, created and dropped; skipped if it cannot be reached). Prints the insert
 * rate and, per typical query, the median and the worst of 5 runs as a table.
 *
 * Environment: BENCH_POSTGRES_URL (a database the user may CREATE DATABASE from; default
 * postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore } from '../src/store/open-store.js';
import { requestLogQuery, type RequestLogQuery } from '../src/store/request-log.js';
import type { SqlGovernanceStore } from '../src/store/sql-store.js';
import type { RequestRow } from '../src/store/types.js';

const DAY = 86_400_000;
const RUNS = 5;
const BATCH = 5_000;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const END = Date.UTC(2026, 0, 31);
const ALIASES = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-3-70b', 'mistral-large', 'embed'];

/** Deterministic rows over 60 days: 20 teams of 10 keys, 6 aliases, 8 deployments, 2% 502 and 1% 429. */
function* batches(count: number): Generator<RequestRow[]> {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
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

async function time<T>(run: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await run();
  return [performance.now() - start, result];
}

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
  const count = Number(process.argv[2] ?? 1_000_000);
  if (!Number.isInteger(count) || count < 1) throw new Error(`rows must be a positive integer, got "${process.argv[2]}"`);

  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-request-log-bench-'));
  try {
    const sqlite = await openStore({ url: join(dir, 'bench.db') });
    try {
      await measure('SQLite (file, WAL)', sqlite, count);
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const name = `stellwerk_bench_requests_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\nPostgres: skipped (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const postgres = await openStore({ url: url.toString() });
    try {
      await measure('Postgres', postgres, count);
    } finally {
      await postgres.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
