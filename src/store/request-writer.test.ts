import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresStore, openStore } from './open-store.js';
import { RequestWriter } from './request-writer.js';
import type { SqlGovernanceStore } from './sql-store.js';
import { createTestDatabase, waitFor, type TestDatabase } from './testing/databases.js';
import { request } from './testing/store-contract.js';
import type { RequestRow } from './types.js';

const HOUR = 3_600_000;

/** A store that records what it was given, fails on demand, and may hold a write open. */
class FakeSink {
  readonly stored = new Map<string, RequestRow>();
  readonly calls: number[] = [];
  failures = 0;
  /** Write, then throw: the database committed but the client never heard. */
  failAfterWrite = 0;
  active = 0;
  maxActive = 0;
  gate: Promise<void> | null = null;

  async insertRequests(rows: readonly RequestRow[]): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      this.calls.push(rows.length);
      if (this.gate !== null) await this.gate;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failures > 0) {
        this.failures -= 1;
        throw new Error('store down');
      }
      for (const row of rows) if (!this.stored.has(row.id)) this.stored.set(row.id, row);
      if (this.failAfterWrite > 0) {
        this.failAfterWrite -= 1;
        throw new Error('connection lost after commit');
      }
    } finally {
      this.active -= 1;
    }
  }
}

function rows(count: number, prefix = 'r'): RequestRow[] {
  return Array.from({ length: count }, (_, index) => request(`${prefix}-${index}`));
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('RequestWriter', () => {
  test('a full batch is written at once, without waiting for the timer', async () => {
    const sink = new FakeSink();
    const writer = new RequestWriter(sink, { batchSize: 3, flushIntervalMs: HOUR });
    for (const row of rows(7)) assert.equal(writer.enqueue(row), true);
    await waitFor(() => writer.written === 6, 5_000, 'two full batches');
    assert.deepEqual(sink.calls, [3, 3]);
    assert.equal(writer.queued, 1);
    assert.equal(await writer.flush(), true);
    assert.deepEqual(sink.calls, [3, 3, 1]);
    assert.equal(writer.queued, 0);
  });

  test('a partial batch is written when its oldest row has waited the interval', async () => {
    const sink = new FakeSink();
    const writer = new RequestWriter(sink, { batchSize: 100, flushIntervalMs: 20 });
    writer.enqueue(request('a'));
    writer.enqueue(request('b'));
    assert.equal(writer.written, 0);
    await waitFor(() => writer.written === 2, 5_000, 'the timed flush');
    assert.deepEqual(sink.calls, [2]);
    writer.enqueue(request('c'));
    await waitFor(() => writer.written === 3, 5_000, 'the next timed flush');
    assert.deepEqual(sink.calls, [2, 1]);
  });

  test('enqueue is synchronous and one loop writes: never two writes at once, order kept', async () => {
    const sink = new FakeSink();
    const hold = gate();
    sink.gate = hold.promise;
    const writer = new RequestWriter(sink, { batchSize: 10, flushIntervalMs: 1 });
    const all = rows(95);
    for (const row of all) writer.enqueue(row);
    assert.equal(writer.queued, 95);
    await waitFor(() => sink.calls.length === 1, 5_000, 'the first write');
    for (const row of rows(20, 'late')) writer.enqueue(row);
    hold.open();
    sink.gate = null;
    assert.equal(await writer.flush(), true);
    assert.equal(sink.maxActive, 1);
    assert.equal(writer.written, 115);
    assert.deepEqual([...sink.stored.keys()], [...all, ...rows(20, 'late')].map((row) => row.id));
  });

  test('while more than catchUpAbove rows wait, batches go to the catch-up sink; one write at a time, order kept', async () => {
    const background = new FakeSink();
    const catchUp = new FakeSink();
    const hold = gate();
    background.gate = hold.promise;
    const caughtUp: number[] = [];
    const writer = new RequestWriter(background, { batchSize: 10, flushIntervalMs: 1, catchUp, catchUpAbove: 25, onCatchUp: (count) => caughtUp.push(count) });
    for (const row of rows(5)) writer.enqueue(row);
    await waitFor(() => background.calls.length === 1, 5_000, 'the first write');
    // The background sink is slow: rows pile up behind its batch.
    const late = rows(42, 'late');
    for (const row of late) writer.enqueue(row);
    hold.open();
    background.gate = null;
    assert.equal(await writer.flush(), true);
    // Queue after the first batch: 42 → 32 → 22 rows: the two batches taken while more than 25
    // waited went to the catch-up sink, the rest to the background one.
    assert.deepEqual(background.calls, [5, 10, 10, 2]);
    assert.deepEqual(catchUp.calls, [10, 10]);
    assert.deepEqual(caughtUp, [10, 10]);
    assert.equal(Math.max(background.maxActive, catchUp.maxActive), 1);
    const written = [...background.stored.values(), ...catchUp.stored.values()].map((row) => row.id).sort();
    assert.deepEqual(written, [...rows(5), ...late].map((row) => row.id).sort());
    assert.deepEqual([...catchUp.stored.keys()], late.slice(0, 20).map((row) => row.id));
  });

  test('a batch older than catchUpAfterMs goes to the catch-up sink, however few rows wait', async () => {
    const background = new FakeSink();
    const catchUp = new FakeSink();
    const hold = gate();
    background.gate = hold.promise;
    const caughtUp: number[] = [];
    const writer = new RequestWriter(background, { batchSize: 10, flushIntervalMs: 1, catchUp, catchUpAbove: 1_000, catchUpAfterMs: 50, onCatchUp: (count) => caughtUp.push(count) });
    writer.enqueue(request('first'));
    await waitFor(() => background.calls.length === 1, 5_000, 'the first write');
    // The background sink is starved of CPU: its batch takes longer than catchUpAfterMs, and
    // the few rows behind it grow older than that meanwhile.
    const queuedAt = Date.now();
    for (const row of rows(3, 'late')) writer.enqueue(row);
    await waitFor(() => Date.now() - queuedAt > 60, 5_000, 'the rows behind to age');
    assert.deepEqual(catchUp.calls, [], 'a batch in flight is never handed over');
    hold.open();
    background.gate = null;
    await waitFor(() => writer.written === 4, 5_000, 'the late rows');
    assert.deepEqual(background.calls, [1]);
    assert.deepEqual(catchUp.calls, [3]);
    assert.deepEqual(caughtUp, [3]);
    assert.deepEqual([...catchUp.stored.keys()], rows(3, 'late').map((row) => row.id));
    // Young rows go to the background sink again.
    writer.enqueue(request('next'));
    await waitFor(() => writer.written === 5, 5_000, 'the next row');
    assert.deepEqual(background.calls, [1, 1]);
    assert.equal(Math.max(background.maxActive, catchUp.maxActive), 1);
  });

  test('a flush does not change lanes: with a short queue the first sink writes what it waits for', async () => {
    const background = new FakeSink();
    const catchUp = new FakeSink();
    const writer = new RequestWriter(background, { batchSize: 10, flushIntervalMs: 3_600_000, catchUp, catchUpAbove: 1_000 });
    for (const row of rows(25)) writer.enqueue(row);
    assert.equal(await writer.flush(), true);
    assert.deepEqual(background.calls, [10, 10, 5]);
    assert.deepEqual(catchUp.calls, []);
  });

  test('a failing store keeps the batch and retries with backoff until it is written, once', async () => {
    const sink = new FakeSink();
    sink.failures = 4;
    sink.failAfterWrite = 1;
    const errors: number[] = [];
    const writer = new RequestWriter(sink, {
      batchSize: 5,
      flushIntervalMs: 1,
      retryBaseMs: 1,
      retryMaxMs: 4,
      onError: (_error, attempt) => errors.push(attempt),
    });
    for (const row of rows(12)) writer.enqueue(row);
    await waitFor(() => writer.written === 12, 5_000, 'all rows after the store came back');
    assert.equal(writer.failed, 5);
    assert.deepEqual(errors, [1, 2, 3, 4, 5]);
    assert.equal(sink.stored.size, 12);
    assert.equal(writer.queued, 0);
    assert.equal(writer.dropped, 0);
  });

  test('the queue is bounded: rows beyond it are dropped and counted through onDrop', async () => {
    const sink = new FakeSink();
    const hold = gate();
    sink.gate = hold.promise;
    const drops: number[] = [];
    const writer = new RequestWriter(sink, { batchSize: 2, flushIntervalMs: 1, maxQueue: 5, onDrop: (count) => drops.push(count) });
    const results = rows(8).map((row) => writer.enqueue(row));
    assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
    assert.equal(writer.dropped, 3);
    assert.deepEqual(drops, [1, 1, 1]);
    assert.equal(writer.queued, 5);
    hold.open();
    sink.gate = null;
    assert.equal(await writer.flush(), true);
    assert.equal(writer.written, 5);
    assert.deepEqual([...sink.stored.keys()], ['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
  });

  test('flush gives up after its timeout while the store is down, keeping the rows', async () => {
    const sink = new FakeSink();
    sink.failures = Number.POSITIVE_INFINITY;
    const writer = new RequestWriter(sink, { batchSize: 10, flushIntervalMs: HOUR, retryBaseMs: 5 });
    for (const row of rows(3)) writer.enqueue(row);
    assert.equal(await writer.flush(100), false);
    assert.equal(writer.queued, 3);
    assert.ok(writer.failed >= 1);
    sink.failures = 0;
    assert.equal(await writer.flush(5_000), true);
    assert.equal(sink.stored.size, 3);
  });

  test('close flushes everything; afterwards rows are refused and counted', async () => {
    const sink = new FakeSink();
    const drops: number[] = [];
    const writer = new RequestWriter(sink, { batchSize: 500, flushIntervalMs: HOUR, onDrop: (count) => drops.push(count) });
    for (const row of rows(1_234)) writer.enqueue(row);
    assert.equal(await writer.close(), true);
    assert.equal(sink.stored.size, 1_234);
    assert.equal(writer.written, 1_234);
    assert.equal(writer.enqueue(request('too-late')), false);
    assert.deepEqual(drops, [1]);
  });

  test('close counts what it could not write as dropped', async () => {
    const sink = new FakeSink();
    sink.failures = Number.POSITIVE_INFINITY;
    const drops: number[] = [];
    const writer = new RequestWriter(sink, { batchSize: 2, flushIntervalMs: HOUR, retryBaseMs: 5, onDrop: (count) => drops.push(count) });
    for (const row of rows(5)) writer.enqueue(row);
    assert.equal(await writer.close(100), false);
    assert.deepEqual(drops, [5]);
    assert.equal(writer.dropped, 5);
    assert.equal(writer.queued, 0);
    assert.equal(await writer.flush(10), true);
  });

  test('a throwing hook breaks neither enqueue nor the loop', async () => {
    const sink = new FakeSink();
    sink.failures = 1;
    const writer = new RequestWriter(sink, {
      maxQueue: 1,
      flushIntervalMs: 1,
      retryBaseMs: 1,
      onDrop: () => {
        throw new Error('metric broken');
      },
      onError: () => {
        throw new Error('logger broken');
      },
    });
    writer.enqueue(request('kept'));
    assert.equal(writer.enqueue(request('dropped')), false);
    assert.equal(await writer.flush(5_000), true);
    assert.deepEqual([...sink.stored.keys()], ['kept']);
  });
});

describe('RequestWriter on real databases', () => {
  let database: TestDatabase;
  let postgres: SqlGovernanceStore;
  before(async () => {
    database = await createTestDatabase();
    postgres = await openStore({ url: database.url });
  });
  after(async () => {
    await postgres.close();
    await database.drop();
  });

  test('Postgres unreachable (a closed port), then back: every row written exactly once', async () => {
    const down = createPostgresStore('postgres://postgres@127.0.0.1:1/none');
    let current: SqlGovernanceStore = down;
    let attempts = 0;
    const sink = {
      insertRequests: (batch: readonly RequestRow[]) => {
        attempts += 1;
        return current.insertRequests(batch);
      },
    };
    const writer = new RequestWriter(sink, { batchSize: 50, flushIntervalMs: 5, retryBaseMs: 5, retryMaxMs: 20 });
    const all = rows(120, 'pg');
    for (const row of all) writer.enqueue(row);
    await waitFor(() => writer.failed >= 3, 10_000, 'failed writes against the closed port');
    assert.equal(writer.written, 0);
    assert.equal(writer.queued, 120);
    current = postgres;
    await waitFor(() => writer.written === 120, 10_000, 'the writes after recovery');
    assert.ok(attempts > 3);
    const stored = await postgres.listRequests();
    assert.deepEqual(stored.map((row) => row.id).sort(), all.map((row) => row.id).sort());
    await down.close();
  });

  test('SQLite: a write that commits but reports failure is retried without a duplicate; shutdown writes the rest', async () => {
    const sqlite = await openStore({ url: ':memory:' });
    let lieOnce = true;
    const sink = {
      insertRequests: async (batch: readonly RequestRow[]) => {
        await sqlite.insertRequests(batch);
        if (lieOnce) {
          lieOnce = false;
          throw new Error('connection lost after commit');
        }
      },
    };
    const writer = new RequestWriter(sink, { batchSize: 100, flushIntervalMs: HOUR, retryBaseMs: 1 });
    for (const row of rows(250, 'lite')) writer.enqueue(row);
    assert.equal(await writer.close(5_000), true);
    assert.equal(writer.failed, 1);
    const stored = await sqlite.listRequests();
    assert.equal(stored.length, 250);
    assert.equal(new Set(stored.map((row) => row.id)).size, 250);
    await sqlite.close();
  });
});
