/**
 * `node --import tsx bench/usage-query.ts [rows]`: how long the usage report takes over a
 * request log of `rows` generated rows (default 100,000), on SQLite (a temp file) and on
 * Postgres (a temp database; skipped if it cannot be reached). Prints the insert time and, per
 * grouping, the median and the worst of 5 runs over a 30-day range.
 *
 * Environment: BENCH_POSTGRES_URL (a database the user may CREATE DATABASE from; default
 * postgres://postgres@127.0.0.1:5432/test).
 */
import { sql } from 'kysely';
import type { SqlGovernanceStore } from '../src/store/sql-store.js';
import type { RequestRow, UsageGroup, UsageQuery } from '../src/store/types.js';
import { benchRandom, onEachStore, rowCountArg, time } from './lib/store-bench.js';

const DAY = 86_400_000;
const GROUPS: UsageGroup[] = ['key', 'team', 'alias', 'day'];
const RUNS = 5;

function generate(count: number, end: number): RequestRow[] {
  const aliases = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-3-70b', 'mistral-large', 'embed'];
  const random = benchRandom();
  return Array.from({ length: count }, (_, index) => {
    const team = Math.floor(random() * 20);
    return {
      id: `bench-${index}`,
      ts: end - Math.floor(random() * 60 * DAY),
      key_id: `key-${team}-${Math.floor(random() * 10)}`,
      team_id: `team-${team}`,
      alias: aliases[Math.floor(random() * aliases.length)]!,
      deployment: `dep-${Math.floor(random() * 8)}`,
      endpoint: '/v1/chat/completions',
      status: random() < 0.02 ? 502 : 200,
      stream: random() < 0.5,
      prompt_tokens: Math.floor(random() * 4_000),
      completion_tokens: Math.floor(random() * 1_000),
      cost_nanos: Math.floor(random() * 50_000_000),
      latency_ms: Math.floor(random() * 3_000),
      ttft_ms: Math.floor(random() * 500),
      error_code: null,
    };
  });
}

async function measure(label: string, store: SqlGovernanceStore, rows: RequestRow[], end: number): Promise<void> {
  const [insertMs] = await time(async () => {
    for (let start = 0; start < rows.length; start += 5_000) await store.insertRequests(rows.slice(start, start + 5_000));
  });
  if (store.kind === 'postgres') await sql`ANALYZE requests`.execute(store.db);
  else await sql`ANALYZE`.execute(store.db);
  console.log(`\n${label}: inserted ${rows.length} rows in ${insertMs.toFixed(0)} ms (${((rows.length / insertMs) * 1_000).toFixed(0)} rows/s)`);
  console.log('query (30 days)          groups   median ms   max ms');
  const queries: [string, UsageQuery][] = [
    ...GROUPS.map((groupBy): [string, UsageQuery] => [`by ${groupBy}`, { groupBy, from: end - 30 * DAY, to: end }]),
    ['by alias, one team', { groupBy: 'alias', from: end - 30 * DAY, to: end, teamId: 'team-3' }],
    ['by key, all time', { groupBy: 'key', from: null, to: null }],
  ];
  for (const [name, query] of queries) {
    const times: number[] = [];
    let groups = 0;
    for (let run = 0; run < RUNS; run += 1) {
      const [ms, result] = await time(() => store.usage(query));
      times.push(ms);
      groups = result.length;
    }
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(24)} ${String(groups).padStart(6)} ${times[Math.floor(RUNS / 2)]!.toFixed(1).padStart(11)} ${times[RUNS - 1]!.toFixed(1).padStart(8)}`);
  }
}

async function main(): Promise<void> {
  const count = rowCountArg(100_000);
  const end = Date.UTC(2026, 0, 31);
  const rows = generate(count, end);
  await onEachStore('usage', (label, store) => measure(label, store, rows, end));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
