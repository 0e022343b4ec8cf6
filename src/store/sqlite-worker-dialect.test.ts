import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Dialect } from 'kysely';
import { StoreConflictError } from './errors.js';
import { openStore } from './open-store.js';
import { SqliteThreadStoppedError, SqliteWorkerDialect } from './sqlite-worker-dialect.js';
import { key } from './testing/store-contract.js';

interface Schema {
  items: { id: number; name: string; qty: number };
}

const dirs: string[] = [];
function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-worker-dialect-'));
  dirs.push(dir);
  return join(dir, name);
}
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL'];

async function itemsDb(path: string, dialect: Dialect = new SqliteWorkerDialect({ path, pragmas: PRAGMAS })): Promise<Kysely<Schema>> {
  const db = new Kysely<Schema>({ dialect });
  await sql`create table if not exists items (id integer primary key, name text not null unique, qty integer not null)`.execute(db);
  return db;
}

/** Counts to `n` in SQL: a query that keeps its thread busy for a while (5e6: about a second). */
function slowCount(n: number) {
  return sql<{ n: number }>`with recursive c(i) as (select 1 union all select i + 1 from c where i < ${n}) select count(*) as n from c`;
}

/** Whether a setImmediate queued right after `query` starts runs before the query's answer arrives. */
async function immediateBeforeAnswer(db: Kysely<Schema>): Promise<string[]> {
  const order: string[] = [];
  const answered = slowCount(5_000_000)
    .execute(db)
    .then((result) => {
      order.push('query');
      assert.equal(result.rows[0]?.n, 5_000_000);
    });
  const immediate = new Promise<void>((resolve) =>
    setImmediate(() => {
      order.push('immediate');
      resolve();
    }),
  );
  await Promise.all([answered, immediate]);
  return order;
}

test('results have the shape of Kysely\'s own SQLite driver', async () => {
  // Two files with the same rows: one queried through the thread, one in this thread.
  const worker = await itemsDb(tempFile('worker.db'));
  const inThreadPath = tempFile('in-thread.db');
  const inThread = await itemsDb(inThreadPath, new SqliteDialect({ database: new Database(inThreadPath) }));
  try {
    const same = async <T>(query: (db: Kysely<Schema>) => Promise<T>) => {
      const [a, b] = [await query(worker), await query(inThread)];
      assert.deepEqual(a, b);
      return a;
    };
    const inserted = await same((db) =>
      db
        .insertInto('items')
        .values([
          { id: 1, name: 'a', qty: 1 },
          { id: 2, name: 'b', qty: 2 },
          { id: 3, name: 'c', qty: 2 },
        ])
        .executeTakeFirst(),
    );
    assert.equal(inserted.numInsertedOrUpdatedRows, 3n);
    assert.equal(inserted.insertId, 3n);
    const rows = await same((db) => db.selectFrom('items').selectAll().orderBy('id').execute());
    assert.equal(rows.length, 3);
    assert.equal(typeof rows[0]!.qty, 'number');
    await same((db) => db.updateTable('items').set({ qty: 7 }).where('qty', '=', 2).executeTakeFirst());
    await same(async (db) => (await db.updateTable('items').set({ qty: 8 }).where('qty', '=', 7).returning(['id', 'qty']).execute()).sort((x, y) => x.id - y.id));
    await same((db) => sql`pragma user_version`.execute(db));
    await same((db) => db.deleteFrom('items').where('qty', '=', -1).executeTakeFirst());
    await same(async (db) => (await db.introspection.getTables()).map((table) => [table.name, table.columns.map((column) => column.name)]));
    // Lost to the structured clone unless rebuilt on the other side: a Buffer parameter binds as a blob.
    await same((db) => sql<{ kind: string; size: number }>`select typeof(${Buffer.from([1, 2, 3])}) as kind, length(${Buffer.from([1, 2])}) as size`.execute(db));
  } finally {
    await worker.destroy();
    await inThread.destroy();
  }
});

test('a failed transaction rolls back, and savepoints work', async () => {
  const db = await itemsDb(tempFile('rollback.db'));
  try {
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 1, name: 'kept?', qty: 1 }).execute();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await db.selectFrom('items').selectAll().execute(), []);

    const trx = await db.startTransaction().execute();
    await trx.insertInto('items').values({ id: 2, name: 'outer', qty: 1 }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('items').values({ id: 3, name: 'inner', qty: 1 }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    assert.deepEqual((await db.selectFrom('items').select('name').execute()).map((row) => row.name), ['outer']);
  } finally {
    await db.destroy();
  }
});

test('concurrent transactions never interleave their statements', async () => {
  const db = await itemsDb(tempFile('interleave.db'));
  try {
    const order: string[] = [];
    let startedB!: () => void;
    const bQueued = new Promise<void>((resolve) => (startedB = resolve));
    const a = db.transaction().execute(async (trx) => {
      order.push('a begins');
      await trx.insertInto('items').values({ id: 1, name: 'a1', qty: 1 }).execute();
      // B asks for the connection now; it must wait until A is done.
      startedB();
      await new Promise<void>((resolve) => setImmediate(resolve));
      await trx.insertInto('items').values({ id: 2, name: 'a2', qty: 1 }).execute();
      const seen = await trx.selectFrom('items').select('name').orderBy('id').execute();
      order.push(`a sees ${seen.map((row) => row.name).join(',')}`);
      throw new Error('A fails');
    });
    await bQueued;
    const b = db.transaction().execute(async (trx) => {
      order.push('b begins');
      await trx.insertInto('items').values({ id: 3, name: 'b1', qty: 1 }).execute();
    });
    // A plain query outside both waits for the connection too, and sees only committed rows.
    const outside = db.selectFrom('items').select('name').execute().then((rows) => order.push(`outside sees ${rows.map((row) => row.name).join(',')}`));
    await assert.rejects(a, /A fails/);
    await Promise.all([b, outside]);
    assert.deepEqual(order, ['a begins', 'a sees a1,a2', 'b begins', 'outside sees b1']);
  } finally {
    await db.destroy();
  }
});

test('SQLite errors keep better-sqlite3\'s class and code, and the connection goes on', async () => {
  const db = await itemsDb(tempFile('codes.db'));
  try {
    await db.insertInto('items').values({ id: 1, name: 'one', qty: 1 }).execute();
    const failure = (code: string) => (error: unknown) => {
      assert.ok(error instanceof Database.SqliteError, String(error));
      assert.equal((error as { code: string }).code, code);
      return true;
    };
    await assert.rejects(db.insertInto('items').values({ id: 1, name: 'other', qty: 1 }).execute(), failure('SQLITE_CONSTRAINT_PRIMARYKEY'));
    await assert.rejects(db.insertInto('items').values({ id: 2, name: 'one', qty: 1 }).execute(), failure('SQLITE_CONSTRAINT_UNIQUE'));
    await assert.rejects(sql`select * from missing_table`.execute(db), failure('SQLITE_ERROR'));
    await assert.rejects(sql`select ${1} + ?`.execute(db), (error: unknown) => error instanceof RangeError && /Too few parameter/.test(error.message));
    assert.equal((await db.selectFrom('items').selectAll().execute()).length, 1);
  } finally {
    await db.destroy();
  }
});

test('a file store runs through the worker: unique violations are store conflicts, and the event loop runs during a long query', async () => {
  const store = await openStore({ url: tempFile('store.db') });
  try {
    await store.insertKey(key('twice'));
    await assert.rejects(store.insertKey(key('twice')), StoreConflictError);
    assert.deepEqual(await immediateBeforeAnswer(store.db as unknown as Kysely<Schema>), ['immediate', 'query']);
  } finally {
    await store.close();
  }
});

test('in the calling thread, the same long query holds the event loop until it is done', async () => {
  // The control for the test above: it shows the ordering test can tell the two apart.
  const path = tempFile('in-thread.db');
  const db = await itemsDb(path, new SqliteDialect({ database: new Database(path) }));
  try {
    assert.deepEqual(await immediateBeforeAnswer(db), ['query', 'immediate']);
  } finally {
    await db.destroy();
  }
});

test('a thread that dies rejects what it owed, says why, and the next query starts a new one', async () => {
  const path = tempFile('crash.db');
  const stops: Error[] = [];
  // A small heap, and a query whose rows (4,000 strings of 50 kB) do not fit in it: the thread runs out of memory.
  const dialect = new SqliteWorkerDialect({ path, pragmas: PRAGMAS, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 }, onThreadError: (error) => stops.push(error) });
  const db = await itemsDb(path, dialect);
  try {
    await db.insertInto('items').values({ id: 1, name: 'survives', qty: 1 }).execute();
    const trx = await db.startTransaction().execute();
    await trx.insertInto('items').values({ id: 2, name: 'lost with the thread', qty: 1 }).execute();
    const huge = sql`with recursive c(i) as (select 1 union all select i + 1 from c where i < 4000) select i, printf('%050000d', i) as pad from c`.execute(trx);
    const queued = trx.selectFrom('items').selectAll().execute();
    await assert.rejects(huge, (error: unknown) => error instanceof SqliteThreadStoppedError && /SQLite query thread/.test(error.message));
    await assert.rejects(queued, SqliteThreadStoppedError);
    // The transaction's connection belonged to the dead thread: its statements fail, never run outside it.
    await assert.rejects(trx.insertInto('items').values({ id: 3, name: 'outside?', qty: 1 }).execute(), SqliteThreadStoppedError);
    await assert.rejects(trx.rollback().execute(), SqliteThreadStoppedError);
    assert.equal(stops.length, 1);
    assert.ok(stops[0] instanceof SqliteThreadStoppedError);
    assert.deepEqual((await db.selectFrom('items').select('name').execute()).map((row) => row.name), ['survives']);
  } finally {
    await db.destroy();
  }
});

test('a database that cannot be opened fails the query clearly, and a closed store refuses queries', async () => {
  // A directory is no database file.
  const missing = new Kysely<Schema>({ dialect: new SqliteWorkerDialect({ path: tmpdir() }) });
  await assert.rejects(sql`select 1`.execute(missing), (error: unknown) => {
    assert.ok(error instanceof Database.SqliteError);
    assert.equal((error as { code: string }).code, 'SQLITE_CANTOPEN');
    return true;
  });
  await missing.destroy();

  const db = await itemsDb(tempFile('closed.db'));
  await db.destroy();
  await db.destroy();
  await assert.rejects(sql`select 1`.execute(db), /destroyed|closed/);
});
