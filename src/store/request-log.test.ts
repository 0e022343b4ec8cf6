import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteStore } from './open-store.js';
import { postgresSubject, request, type ContractSubject } from './testing/store-contract.js';
import { decodeCursor, encodeCursor, requestLogQuery, type RequestLogQuery } from './request-log.js';
import type { SqlGovernanceStore } from './sql-store.js';
import type { RequestRow } from './types.js';

/** 2026-05-01T00:00:00Z */
const T0 = Date.UTC(2026, 4, 1);

const backends: [string, () => Promise<ContractSubject>][] = [
  [
    'SQLite',
    async () => {
      const store = createSqliteStore(':memory:');
      await store.migrate();
      return { store, cleanup: () => store.close() };
    },
  ],
  ['Postgres', postgresSubject],
];

/** Every page of a query, following next cursors. */
async function allPages(store: SqlGovernanceStore, query: RequestLogQuery, between?: (page: number) => Promise<void>): Promise<RequestRow[][]> {
  const pages: RequestRow[][] = [];
  let after = query.after;
  for (;;) {
    const page = await store.searchRequests({ ...query, after });
    pages.push(page.rows);
    if (page.next === null) return pages;
    await between?.(pages.length);
    after = page.next;
  }
}

const ids = (rows: readonly RequestRow[]) => rows.map((row) => row.id);

for (const [name, open] of backends) {
  describe(`request log search: ${name}`, () => {
    let subject: ContractSubject;
    let store: SqlGovernanceStore;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(() => subject.cleanup());

    test('each filter, alone and with a time range, newest first', async () => {
      const base = T0;
      await store.insertRequests([
        request('f-1', { ts: base + 1, key_id: 'ka', team_id: 'ta', alias: 'gpt', deployment: 'azure', status: 200, latency_ms: 100, prompt_tokens: 10, completion_tokens: 5, cost_nanos: 1_000 }),
        request('f-2', { ts: base + 2, key_id: 'kb', team_id: 'ta', alias: 'gpt', deployment: 'openai', status: 429, error_code: 'rate_limited', latency_ms: 3, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0 }),
        request('f-3', { ts: base + 3, key_id: 'kc', team_id: 'tb', alias: 'llama', deployment: 'gpu-1', status: 502, error_code: 'upstream_error', latency_ms: 9_000, prompt_tokens: 100, completion_tokens: 0, cost_nanos: 0 }),
        request('f-4', { ts: base + 4, key_id: 'ka', team_id: 'ta', alias: 'llama', deployment: 'gpu-1', status: 200, latency_ms: 450, prompt_tokens: 1_000, completion_tokens: 500, cost_nanos: 2_500_000 }),
        request('f-5', { ts: base + 5, key_id: null, team_id: null, alias: null, deployment: null, status: 401, error_code: 'invalid_api_key', latency_ms: 1, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0 }),
        request('f-out', { ts: base + 1_000, key_id: 'ka', team_id: 'ta', alias: 'gpt', status: 200 }),
      ]);
      const search = async (overrides: Partial<RequestLogQuery>) => ids((await store.searchRequests(requestLogQuery({ from: base, to: base + 100, ...overrides }))).rows);
      assert.deepEqual(await search({}), ['f-5', 'f-4', 'f-3', 'f-2', 'f-1']);
      assert.deepEqual(await search({ keyId: 'ka' }), ['f-4', 'f-1']);
      assert.deepEqual(await search({ teamId: 'ta' }), ['f-4', 'f-2', 'f-1']);
      assert.deepEqual(await search({ alias: 'llama' }), ['f-4', 'f-3']);
      assert.deepEqual(await search({ deployment: 'gpu-1' }), ['f-4', 'f-3']);
      assert.deepEqual(await search({ status: { kind: 'exact', status: 200 } }), ['f-4', 'f-1']);
      assert.deepEqual(await search({ status: { kind: 'class', min: 400, max: 499 } }), ['f-5', 'f-2']);
      assert.deepEqual(await search({ status: { kind: 'class', min: 500, max: 599 } }), ['f-3']);
      assert.deepEqual(await search({ status: { kind: 'error' } }), ['f-5', 'f-3', 'f-2']);
      assert.deepEqual(await search({ teamId: 'ta', status: { kind: 'class', min: 400, max: 499 } }), ['f-2']);
      assert.deepEqual(await search({ minLatencyMs: 100, maxLatencyMs: 450 }), ['f-4', 'f-1']);
      assert.deepEqual(await search({ alias: 'llama', minLatencyMs: 1_000 }), ['f-3']);
      assert.deepEqual(await search({ minTokens: 15 }), ['f-4', 'f-3', 'f-1']);
      assert.deepEqual(await search({ minTokens: 101 }), ['f-4']);
      assert.deepEqual(await search({ minCostNanos: 1_000 }), ['f-4', 'f-1']);
      assert.deepEqual(await search({ from: base + 2, to: base + 4 }), ['f-3', 'f-2'], 'from inclusive, to exclusive');
      assert.deepEqual(await search({ keyId: 'nobody' }), []);
      assert.deepEqual(ids((await store.searchRequests(requestLogQuery({ keyId: 'ka' }))).rows).slice(0, 3), ['f-out', 'f-4', 'f-1'], 'no time range: everything');
    });

    test('a row comes back whole, with its attempts; an unknown id is null', async () => {
      const attempts = [
        { deployment: 'gpu-1', status: 503, error_code: 'upstream_error', latency_ms: 12 },
        { deployment: 'gpu-2', status: null, error_code: 'upstream_timeout', latency_ms: 3_000 },
        { deployment: 'azure', status: 200, error_code: null, latency_ms: 410 },
      ];
      const row = request('d-1', { ts: T0 + 50_000, attempts, energy_wh: 0.5, co2e_ug: 12_000, usage_estimated: true, ttft_ms: 80 });
      await store.insertRequests([row, request('d-2', { ts: T0 + 50_001 })]);
      const read = await store.getRequest('d-1');
      assert.deepEqual(read?.attempts, attempts);
      assert.deepEqual([read?.energy_wh, read?.co2e_ug, read?.usage_estimated, read?.ttft_ms, read?.cost_nanos], [0.5, 12_000, true, 80, 1_000]);
      assert.equal((await store.getRequest('d-2'))?.attempts, null);
      assert.equal(await store.getRequest('nope'), null);
    });

    test('pages follow each other without duplicates or gaps while rows are written, ties on ts included', async () => {
      const base = T0 + 1_000_000;
      // 240 rows on 40 distinct milliseconds: six rows share each ts, so pages end inside ties.
      const initial = Array.from({ length: 240 }, (_, index) => request(`p-${String(index).padStart(3, '0')}`, { ts: base + Math.floor(index / 6), key_id: 'pager' }));
      await store.insertRequests(initial);
      const query = requestLogQuery({ keyId: 'pager', limit: 7 });
      let written = 0;
      const pages = await allPages(store, query, async (page) => {
        // Meanwhile: newer rows (before the cursor: not on later pages), rows at a tied ts and older
        // rows (behind the cursor: on a later page, once).
        written++;
        await store.insertRequests([
          request(`new-${page}`, { ts: base + 10_000 + page, key_id: 'pager' }),
          request(`old-${page}`, { ts: base - page, key_id: 'pager' }),
        ]);
      });
      const seen = pages.flat();
      assert.ok(pages.every((page) => page.length <= 7));
      assert.equal(new Set(ids(seen)).size, seen.length, 'no row twice');
      for (const row of initial) assert.ok(ids(seen).includes(row.id), `${row.id} is on a page`);
      for (let index = 1; index < seen.length; index++) {
        const [a, b] = [seen[index - 1]!, seen[index]!];
        assert.ok(a.ts > b.ts || (a.ts === b.ts && a.id > b.id), 'strictly newest first in (ts, id)');
      }
      assert.ok(written >= 34);
      assert.ok(!ids(seen).some((id) => id.startsWith('new-')), 'rows newer than the first page are not on later pages');
      assert.equal(ids(seen).filter((id) => id.startsWith('old-')).length, written, 'older rows written meanwhile appear once each');
    });

    test('the cursor is opaque and checked', () => {
      const cursor = { ts: T0, id: 'c3c7d1b0-0000-4000-8000-000000000000' };
      const text = encodeCursor(cursor);
      assert.match(text, /^[A-Za-z0-9_-]+$/);
      assert.deepEqual(decodeCursor(text), cursor);
      for (const bad of ['', 'not base64!', Buffer.from('{"ts":1}').toString('base64url'), Buffer.from('[1.5,"x"]').toString('base64url'), Buffer.from('[1,""]').toString('base64url'), 'x'.repeat(500)]) {
        assert.equal(decodeCursor(bad), null, bad);
      }
    });
  });
}
