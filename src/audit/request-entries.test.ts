import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from '../store/open-store.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import { PostgresWorkerSink } from '../store/postgres-writer.js';
import { SqliteWorkerSink } from '../store/sqlite-writer.js';
import { createTestDatabase, type TestDatabase } from '../store/testing/databases.js';
import type { RequestRow } from '../store/types.js';
import { AuditStore } from './audit-store.js';
import { canonicalJson, entryHash } from './canonical.js';
import { requestEvent, type AppendOptions } from './chain.js';
import { verifyAuditChain } from './verify.js';

/**
 * Request entries written with their request rows: by the SQLite writer thread, and by
 * AuditStore.insertRequests (Postgres, SQLite in memory). Rows and entries commit together.
 */

const SECRET = 'request-entries-secret-0123456789';

function row(n: number, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: randomUUID(),
    request_id: `req-${n}-${randomUUID().slice(0, 8)}`,
    ts: 1_750_000_000_000 + n,
    key_id: `key-${n % 3}`,
    team_id: n % 2 === 0 ? 'team-even' : null,
    alias: 'chat',
    deployment: 'eu-1',
    endpoint: 'chat',
    status: 200,
    stream: false,
    prompt_tokens: 10 + n,
    completion_tokens: 5,
    cost_nanos: 1_000,
    latency_ms: 12,
    ttft_ms: null,
    error_code: null,
    region: 'eu-west',
    pii_types: n % 4 === 0 ? { email: 1 } : null,
    attempts: [{ deployment: 'eu-1', status: 200, error_code: null, latency_ms: 11 }],
    ...overrides,
  };
}

function rows(from: number, count: number): RequestRow[] {
  return Array.from({ length: count }, (_, i) => row(from + i));
}

async function counts(store: SqlGovernanceStore): Promise<{ requests: number; entries: number; checkpoints: number }> {
  const { rows: found } = await sql<{ requests: number; entries: number; checkpoints: number }>`select
      (select count(*) from requests) as requests,
      (select count(*) from audit_entries) as entries,
      (select count(*) from audit_checkpoints) as checkpoints`.execute(store.db);
  const first = found[0]!;
  return { requests: Number(first.requests), entries: Number(first.entries), checkpoints: Number(first.checkpoints) };
}

async function distinctPredecessors(store: SqlGovernanceStore): Promise<number> {
  const { rows: found } = await sql<{ n: number }>`select count(distinct prev_hash) as n from audit_entries`.execute(store.db);
  return Number(found[0]!.n);
}

test('a request entry holds the row’s metadata, with the client’s request id as subject, and whole numbers only', () => {
  const event = requestEvent(row(4, { prompt_tokens: Number.NaN, status: 499.6, error_code: 'upstream_timeout', pii_types: { email: 2, iban: Number.POSITIVE_INFINITY } }));
  assert.equal(event.kind, 'request');
  assert.equal(event.actor, null);
  assert.match(event.subject!, /^req-4-/);
  assert.deepEqual(
    { ...event.data, request_id: 'x' },
    {
      request_id: 'x',
      key_id: 'key-1',
      team_id: 'team-even',
      alias: 'chat',
      deployment: 'eu-1',
      region: 'eu-west',
      endpoint: 'chat',
      status: 500,
      prompt_tokens: 0,
      completion_tokens: 5,
      pii_types: { email: 2, iban: 0 },
      error_code: 'upstream_timeout',
    },
  );
});

test('a request entry’s canonical data text is canonicalJson of its data, for odd values too', () => {
  // Strings JSON escapes (quote, backslash, controls, lone surrogates) and ones it does not
  // (non-ASCII, emoji); numbers that are not whole or not finite; members present and absent.
  const strings = ['chat', 'a"b', 'back\\slash', 'tab\tnew\nline\u0001', '\ud800lone', 'ü-é', '😀', ''];
  const numbers = [0, 7, -0.4, 2.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53];
  let seed = 42;
  const pick = <T>(values: readonly T[]): T => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return values[seed % values.length]!;
  };
  const maybe = (): string | null => (pick([0, 1, 2]) === 0 ? null : pick(strings));
  for (let n = 0; n < 500; n++) {
    const event = requestEvent(
      row(n, {
        alias: maybe(),
        deployment: maybe(),
        endpoint: pick(strings),
        key_id: maybe(),
        team_id: maybe(),
        region: maybe(),
        request_id: maybe(),
        error_code: maybe(),
        status: pick(numbers),
        prompt_tokens: pick(numbers),
        completion_tokens: pick(numbers),
        pii_types: pick<Record<string, number> | null>([null, {}, { phone: pick(numbers), email: 1 }, { 'z"q': 2, a: pick(numbers) }]),
      }),
    );
    assert.equal(event.dataJson, canonicalJson(event.data), `row ${n}`);
  }
});

describe('the SQLite writer thread appends request entries with their rows', () => {
  let dir: string;
  let path: string;
  let store: SqlGovernanceStore;
  let audit: AuditStore;
  let sink: SqliteWorkerSink;
  const options: AppendOptions = { checkpointEvery: 25, secret: SECRET };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stellwerk-request-entries-'));
    path = join(dir, 'gw.db');
    store = await openStore({ url: path });
    audit = new AuditStore(store.db, store.kind);
    sink = new SqliteWorkerSink(path, { audit: options });
  });
  after(async () => {
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('batches from the thread form one verified chain with signed checkpoints, one entry per row', async () => {
    const batches = [rows(1, 40), rows(41, 30), rows(71, 30)];
    for (const batch of batches) await sink.insertRequests(batch);
    assert.deepEqual(await counts(store), { requests: 100, entries: 100, checkpoints: 3 });
    const report = await verifyAuditChain(audit, SECRET);
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.checkpoints.signatures, 'verified', 'the thread signed them with the secret');
    assert.equal((await verifyAuditChain(audit, 'another-secret-0123456789')).ok, false);
    const entry = (await audit.entriesAfter(0, 1))[0]!;
    assert.equal(entry.id, batches[0]![0]!.id, 'an entry’s id is its row’s id');
    assert.equal(entry.subject, batches[0]![0]!.request_id);
    const { hash, ...rest } = entry;
    assert.equal(entryHash(rest), hash);
  });

  test('a retried batch adds no row and no entry', async () => {
    const batch = rows(200, 20);
    await sink.insertRequests(batch);
    const before = await counts(store);
    await sink.insertRequests(batch);
    await sink.insertRequests([...batch.slice(5), ...rows(300, 2)]);
    const after = await counts(store);
    assert.equal(after.requests, before.requests + 2);
    assert.equal(after.entries, before.entries + 2);
    assert.equal((await verifyAuditChain(audit, SECRET)).ok, true);
  });

  test('a batch whose entries cannot be written leaves neither rows nor entries; its retry writes both once', async () => {
    // A real failure inside the transaction, after the rows were inserted: the database refuses one entry.
    const raw = new Database(path);
    raw.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_entries WHEN NEW.subject = 'poison'
              BEGIN SELECT RAISE(ABORT, 'entry refused'); END`);
    try {
      const before = await counts(store);
      const batch = [...rows(400, 10), row(410, { request_id: 'poison' }), ...rows(411, 5)];
      await assert.rejects(sink.insertRequests(batch), /entry refused/);
      assert.deepEqual(await counts(store), before, 'nothing of the batch was kept');
      raw.exec('DROP TRIGGER refuse_poison');
      await sink.insertRequests(batch);
      const after = await counts(store);
      assert.equal(after.requests, before.requests + 16);
      assert.equal(after.entries, before.entries + 16);
    } finally {
      raw.close();
    }
    assert.equal((await verifyAuditChain(audit, SECRET)).ok, true);
  });

  test('a batch whose rows cannot be written appends no entry', async () => {
    const raw = new Database(path);
    raw.exec(`CREATE TRIGGER refuse_row BEFORE INSERT ON requests WHEN NEW.alias = 'refused'
              BEGIN SELECT RAISE(ABORT, 'row refused'); END`);
    try {
      const before = await counts(store);
      await assert.rejects(sink.insertRequests([...rows(500, 3), row(503, { alias: 'refused' })]), /row refused/);
      assert.deepEqual(await counts(store), before);
    } finally {
      raw.exec('DROP TRIGGER refuse_row');
      raw.close();
    }
  });

  test('admin actions appended by the main thread at the same time keep one chain with the thread’s entries', async () => {
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 15; round++) {
      writes.push(sink.insertRequests(rows(1_000 + round * 20, 20)));
      writes.push(
        audit.append([{ id: randomUUID(), ts: Date.now(), kind: 'key.updated', actor: 'master', team_id: null, subject: `key-${round}`, data: { rpm: round } }], options),
      );
    }
    await Promise.all(writes);
    const report = await verifyAuditChain(audit, SECRET);
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    const { entries } = await counts(store);
    assert.equal(report.entries, entries);
    assert.equal(await distinctPredecessors(store), entries, 'no two entries share a predecessor: the chain did not fork');
    assert.equal((await audit.list({ kind: 'key.updated', limit: 100 })).length, 15);
  });

  test('a writer thread that dies is replaced at a later batch, and the chain goes on from where it was', async () => {
    /** The thread ends as on a native fault: terminated from outside. */
    const kill = (sink: SqliteWorkerSink) => (sink as unknown as { worker: Worker }).worker.terminate();
    const waiting = new SqliteWorkerSink(path, { audit: options, restartDelayMs: 60_000 });
    await waiting.insertRequests(rows(3_000, 2));
    await kill(waiting);
    await assert.rejects(waiting.insertRequests(rows(3_002, 1)), /writer thread stopped/, 'within the delay a batch fails at once');
    await waiting.close();

    const replaced = new SqliteWorkerSink(path, { audit: options, restartDelayMs: 0 });
    try {
      await replaced.insertRequests(rows(3_010, 2));
      const before = await counts(store);
      await kill(replaced);
      const batch = rows(3_020, 3);
      await replaced.insertRequests(batch);
      await replaced.insertRequests(batch);
      const after = await counts(store);
      assert.equal(after.requests, before.requests + 3);
      assert.equal(after.entries, before.entries + 3);
      assert.equal((await verifyAuditChain(audit, SECRET)).ok, true);
    } finally {
      await replaced.close();
    }
  });

  test('with an interval, the thread checkpoints a head older than it without waiting for checkpoint_every', async () => {
    const timed = new SqliteWorkerSink(path, { audit: { checkpointEvery: 1_000_000, checkpointIntervalMs: 0, secret: SECRET } });
    try {
      await timed.insertRequests(rows(2_000, 3));
      const head = await audit.head();
      assert.equal((await audit.lastCheckpoint())?.seq, head.seq);
      assert.equal((await verifyAuditChain(audit, SECRET)).ok, true);
    } finally {
      await timed.close();
    }
  });
});

/** Where a suite's batches go: AuditStore.insertRequests on the main thread, or a writer thread. */
interface BatchSink {
  insertRequests(rows: readonly RequestRow[]): Promise<void>;
  close(): Promise<void>;
}

function insertRequestsSuite(
  name: string,
  open: () => Promise<{ store: SqlGovernanceStore; cleanup: () => Promise<void>; url: string }>,
  sinkOf: (store: SqlGovernanceStore, audit: AuditStore, options: AppendOptions, url: string) => BatchSink = (_store, audit, options) => ({
    insertRequests: (batch) => audit.insertRequests(batch, options),
    close: async () => {},
  }),
): void {
  describe(name, () => {
    let store: SqlGovernanceStore;
    let cleanup: () => Promise<void>;
    let audit: AuditStore;
    let sink: BatchSink;
    const options: AppendOptions = { checkpointEvery: 10, secret: SECRET };
    before(async () => {
      let url: string;
      ({ store, cleanup, url } = await open());
      audit = new AuditStore(store.db, store.kind);
      sink = sinkOf(store, audit, options, url);
    });
    after(async () => {
      await sink.close();
      await cleanup();
    });

    test('rows and their entries are written together, retries add nothing, and a refused entry keeps the rows out too', async () => {
      const batch = rows(1, 23);
      await sink.insertRequests(batch);
      await sink.insertRequests(batch);
      assert.deepEqual(await counts(store), { requests: 23, entries: 23, checkpoints: 1 });
      assert.equal((await store.getRequest(batch[7]!.id))?.alias, 'chat');

      const poisoned = [...rows(30, 4), row(34, { request_id: 'poison' })];
      if (store.kind === 'postgres') {
        await sql`create function refuse_poison() returns trigger language plpgsql as $$
                  begin if new.subject = 'poison' then raise exception 'entry refused'; end if; return new; end $$`.execute(store.db);
        await sql`create trigger refuse_poison before insert on audit_entries for each row execute function refuse_poison()`.execute(store.db);
      } else {
        await sql`create trigger refuse_poison before insert on audit_entries when new.subject = 'poison' begin select raise(abort, 'entry refused'); end`.execute(store.db);
      }
      await assert.rejects(sink.insertRequests(poisoned), /entry refused/);
      assert.deepEqual(await counts(store), { requests: 23, entries: 23, checkpoints: 1 });
      await sql`drop trigger refuse_poison${sql.raw(store.kind === 'postgres' ? ' on audit_entries' : '')}`.execute(store.db);
      await sink.insertRequests(poisoned);
      assert.deepEqual(await counts(store), { requests: 28, entries: 28, checkpoints: 1 });
      const report = await verifyAuditChain(audit, SECRET);
      assert.equal(report.ok, true, JSON.stringify(report.broken));
    });

    test('admin actions appended on the main thread meanwhile keep one chain with the batches’ entries', async () => {
      const writes: Promise<unknown>[] = [];
      for (let round = 0; round < 10; round++) {
        writes.push(sink.insertRequests(rows(1_000 + round * 10, 10)));
        writes.push(audit.append([{ id: randomUUID(), ts: Date.now(), kind: 'key.updated', actor: 'master', team_id: null, subject: `key-${round}`, data: { rpm: round } }], options));
      }
      await Promise.all(writes);
      const report = await verifyAuditChain(audit, SECRET);
      assert.equal(report.ok, true, JSON.stringify(report.broken));
      const { entries } = await counts(store);
      assert.equal(await distinctPredecessors(store), entries, 'no two entries share a predecessor: the chain did not fork');
    });
  });
}

insertRequestsSuite('AuditStore.insertRequests on SQLite in memory', async () => {
  const store = await openStore({ url: ':memory:' });
  return { store, cleanup: () => store.close(), url: ':memory:' };
});

async function postgres(): Promise<{ store: SqlGovernanceStore; cleanup: () => Promise<void>; url: string }> {
  const database: TestDatabase = await createTestDatabase();
  const store = await openStore({ url: database.url });
  return {
    store,
    url: database.url,
    cleanup: async () => {
      await store.close();
      await database.drop();
    },
  };
}

insertRequestsSuite('AuditStore.insertRequests on Postgres', postgres);
insertRequestsSuite('the Postgres writer thread appends request entries with their rows', postgres, (_store, _audit, options, url) => new PostgresWorkerSink(url, options));
