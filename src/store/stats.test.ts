import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from './open-store.js';
import type { SqlGovernanceStore } from './sql-store.js';
import { queryStatsBuckets, querySpend, querySpendBy, queryTraffic } from './stats.js';
import { createTestDatabase, type TestDatabase } from './testing/databases.js';
import { request } from './testing/store-contract.js';
import type { RequestRow } from './types.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2025, 5, 2, 0, 0, 0);

/** A deterministic spread of latencies over four orders of magnitude (a skewed, long-tailed mix). */
function latencyOf(i: number): number {
  const x = ((i * 7919) % 1000) / 1000;
  return Math.round(2 + 30_000 * x ** 4);
}

function seedRows(): RequestRow[] {
  const rows: RequestRow[] = [];
  for (let i = 0; i < 3000; i++) {
    rows.push(
      request(`r${i}`, {
        ts: BASE + (i % 3) * HOUR + i,
        team_id: i % 5 === 0 ? 'team-b' : 'team-a',
        key_id: i % 5 === 0 ? 'key-b' : 'key-a',
        deployment: i % 4 === 0 ? 'd2' : 'd1',
        alias: 'm',
        status: i % 100 === 0 ? 500 : i % 101 === 0 ? 499 : 200,
        latency_ms: latencyOf(i),
        ttft_ms: i % 3 === 0 ? null : Math.floor(latencyOf(i) / 3),
        cost_nanos: 1_000 + i,
        energy_wh: 0.25,
        co2e_ug: 10,
      }),
    );
  }
  return rows;
}

/** Nearest-rank quantile of the values, as the histogram approximates it. */
function exact(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

function close(actual: number | null, expected: number | null, label: string): void {
  if (expected === null) return assert.equal(actual, null, label);
  assert.ok(actual !== null && Math.abs(actual - expected) <= Math.max(1, 0.045 * expected), `${label}: ${actual} vs exact ${expected}`);
}

for (const kind of ['SQLite', 'Postgres'] as const) {
  describe(`dashboard stats on ${kind}`, () => {
    let store: SqlGovernanceStore;
    let database: TestDatabase | null = null;
    const rows = seedRows();

    before(async () => {
      if (kind === 'Postgres') database = await createTestDatabase();
      store = await openStore({ url: database?.url ?? ':memory:' });
      await store.insertRequests(rows);
    });
    after(async () => {
      await store.close();
      await database?.drop();
    });

    test('bucket counts, errors and sums equal the rows’ arithmetic; p50/p99 within 4.5% of the exact values', async () => {
      for (const teamId of [null, 'team-a']) {
        const buckets = await queryStatsBuckets(store.db, { from: BASE, to: BASE + 4 * HOUR, bucketMs: HOUR, teamId });
        assert.equal(buckets.length, 4);
        for (const [index, bucket] of buckets.entries()) {
          const mine = rows.filter((row) => row.ts >= BASE + index * HOUR && row.ts < BASE + (index + 1) * HOUR && (teamId === null || row.team_id === teamId));
          assert.equal(bucket.start, BASE + index * HOUR);
          assert.equal(bucket.requests, mine.length);
          assert.equal(bucket.errors, mine.filter((row) => row.status >= 400 && row.status !== 499).length);
          assert.equal(bucket.costNanos, mine.reduce((sum, row) => sum + row.cost_nanos, 0));
          assert.equal(bucket.energyWh, mine.length * 0.25);
          assert.equal(bucket.co2eUg, mine.length * 10);
          const latencies = mine.map((row) => row.latency_ms);
          const ttfts = mine.flatMap((row) => (row.ttft_ms === null ? [] : [row.ttft_ms]));
          close(bucket.latencyP50, exact(latencies, 0.5), `${teamId} ${index} latency p50`);
          close(bucket.latencyP99, exact(latencies, 0.99), `${teamId} ${index} latency p99`);
          close(bucket.ttftP50, exact(ttfts, 0.5), `${teamId} ${index} ttft p50`);
          close(bucket.ttftP99, exact(ttfts, 0.99), `${teamId} ${index} ttft p99`);
        }
        assert.equal(buckets[3]!.requests, 0);
        assert.equal(buckets[3]!.latencyP50, null);
      }
    });

    test('spend since a time, by key and team, and traffic per deployment', async () => {
      const all = rows.reduce((sum, row) => sum + row.cost_nanos, 0);
      const secondHour = rows.filter((row) => row.ts >= BASE + HOUR).reduce((sum, row) => sum + row.cost_nanos, 0);
      assert.deepEqual(await querySpend(store.db, null, BASE, BASE + HOUR), { sinceNanos: all, dayNanos: secondHour });
      const byTeam = await querySpendBy(store.db, 'team', BASE, null);
      assert.equal(byTeam.get('team-b'), rows.filter((row) => row.team_id === 'team-b').reduce((sum, row) => sum + row.cost_nanos, 0));
      const byKeyOfA = await querySpendBy(store.db, 'key', BASE, 'team-a');
      assert.deepEqual([...byKeyOfA.keys()], ['key-a']);
      const traffic = await queryTraffic(store.db, BASE);
      assert.equal(traffic.get('m')?.get('d2'), 750);
      assert.equal(traffic.get('m')?.get('d1'), 2250);
    });
  });
}
