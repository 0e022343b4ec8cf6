// Times GET /admin/stats's store query over a million request rows (docs/dashboard.md):
//   node --import tsx bench/dashboard-stats.ts            # SQLite in memory
//   node --import tsx bench/dashboard-stats.ts postgres://postgres@127.0.0.1:5432/test_stats
// The rows span one day (one every 86 ms) with latencies of 1..1000 ms and a TTFT on every other.
import { sql } from 'kysely';
import { openStore } from '../src/store/open-store.js';
import { queryStatsBuckets } from '../src/store/stats.js';

const ROWS = 1_000_000;
const T0 = Date.UTC(2025, 0, 1);
const STEP = 86;

const store = await openStore({ url: process.argv[2] ?? ':memory:' });
try {
  let started = performance.now();
  const values = sql`'bench' || i, ${T0} + i * ${STEP}, 'k' || (i % 10), 't' || (i % 3), 'a', 'd', 'chat',
    case when i % 50 = 0 then 500 else 200 end, ${store.kind === 'postgres' ? sql`false` : sql`0`}, 10, 20, 1000,
    1 + (i % 1000), case when i % 2 = 0 then i % 300 else null end, null`;
  const columns = sql`(id, ts, key_id, team_id, alias, deployment, endpoint, status, stream, prompt_tokens, completion_tokens, cost_nanos, latency_ms, ttft_ms, error_code)`;
  if (store.kind === 'postgres') {
    await sql`delete from requests where id like 'bench%'`.execute(store.db);
    await sql`insert into requests ${columns} select ${values} from generate_series(0, ${ROWS - 1}) as i`.execute(store.db);
    await sql`analyze requests`.execute(store.db);
  } else {
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i < ${ROWS - 1}) insert into requests ${columns} select ${values} from n`.execute(store.db);
  }
  console.log(`${store.kind}: inserted ${ROWS} rows in ${Math.round(performance.now() - started)} ms`);
  for (const [label, bucketMs, teamId] of [
    ['day, hour buckets', 3_600_000, null],
    ['day, minute buckets', 60_000, null],
    ['day, hour buckets, one team', 3_600_000, 't1'],
  ] as const) {
    started = performance.now();
    const buckets = await queryStatsBuckets(store.db, { from: T0, to: T0 + ROWS * STEP, bucketMs, teamId });
    const ms = Math.round(performance.now() - started);
    const sample = buckets[1]!;
    console.log(`${label}: ${ms} ms, ${buckets.length} buckets; e.g. ${sample.requests} requests, p50 ${sample.latencyP50} ms, p99 ${sample.latencyP99} ms`);
  }
} finally {
  await store.close();
}
