import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { DEFAULT_SQLITE_PATH, openStore, parseStoreUrl, redactUrl } from './open-store.js';
import { key, request, storeContract, MIGRATIONS } from './testing/store-contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-store-'));
  dirs.push(dir);
  return dir;
}
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeContract('SQLite in memory', async () => {
  const store = await openStore({ url: ':memory:' });
  return { store, cleanup: () => store.close() };
});

storeContract('SQLite file', async () => {
  const store = await openStore({ url: join(tempDir(), 'contract.db') });
  return { store, cleanup: () => store.close() };
});

test('a SQLite file store creates its directory, uses WAL, and keeps its data across reopening', async () => {
  const path = join(tempDir(), 'nested', 'deeper', 'stellwerk.db');
  const store = await openStore({ url: `sqlite:${path}` });
  assert.equal(store.kind, 'sqlite');
  assert.equal(store.location, path);
  assert.equal(store.connectionString, null);
  const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(store.db);
  assert.equal(mode.rows[0]?.journal_mode, 'wal');
  const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(store.db);
  assert.equal(sync.rows[0]?.synchronous, 1, 'NORMAL');
  const busy = await sql<{ timeout: number }>`PRAGMA busy_timeout`.execute(store.db);
  assert.equal(busy.rows[0]?.timeout, 5_000);
  await store.insertKey(key('persisted'));
  await store.insertRequests([request('persisted-row')]);
  await store.close();
  await store.close();

  const again = await openStore({ url: path });
  assert.equal((await again.getKey('persisted'))?.id, 'persisted');
  assert.equal((await again.listRequests()).length, 1);
  assert.deepEqual(await again.appliedMigrations(), MIGRATIONS);
  await again.close();
});

test('two SQLite stores on one new file may migrate at the same moment', async () => {
  const path = join(tempDir(), 'race.db');
  const [a, b] = await Promise.all([openStore({ url: path }), openStore({ url: path })]);
  assert.deepEqual(await a.appliedMigrations(), MIGRATIONS);
  await a.insertKey(key('from-a'));
  assert.equal((await b.getKey('from-a'))?.id, 'from-a');
  await Promise.all([a.close(), b.close()]);
});

test('openStore without migrate leaves the database empty until migrate()', async () => {
  const store = await openStore({ url: ':memory:', migrate: false });
  assert.deepEqual(await store.appliedMigrations(), []);
  await store.migrate();
  assert.deepEqual(await store.appliedMigrations(), MIGRATIONS);
  await store.close();
});

test('DATABASE_URL picks the database', () => {
  assert.deepEqual(parseStoreUrl(undefined), { kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
  assert.deepEqual(parseStoreUrl(''), { kind: 'sqlite', path: DEFAULT_SQLITE_PATH });
  assert.deepEqual(parseStoreUrl('postgres://u:p@db:5432/gw'), { kind: 'postgres', connectionString: 'postgres://u:p@db:5432/gw' });
  assert.deepEqual(parseStoreUrl('postgresql://db/gw'), { kind: 'postgres', connectionString: 'postgresql://db/gw' });
  assert.deepEqual(parseStoreUrl(':memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseStoreUrl('sqlite:///var/lib/gw.db'), { kind: 'sqlite', path: '/var/lib/gw.db' });
  assert.deepEqual(parseStoreUrl('sqlite:data/gw.db'), { kind: 'sqlite', path: 'data/gw.db' });
  assert.deepEqual(parseStoreUrl('file:///var/lib/gw.db'), { kind: 'sqlite', path: '/var/lib/gw.db' });
  assert.deepEqual(parseStoreUrl('./gw.db'), { kind: 'sqlite', path: './gw.db' });
  assert.throws(() => parseStoreUrl('mysql://db/gw'), /unsupported scheme "mysql:"/);
});

test('a Postgres URL is logged without its password', () => {
  assert.equal(redactUrl('postgres://gw:s3cret@db:5432/gw'), 'postgres://gw:***@db:5432/gw');
  assert.equal(redactUrl('postgres://db/gw'), 'postgres://db/gw');
  assert.ok(!redactUrl('not a url s3cret').includes('s3cret'));
});

test('the default SQLite path is created under ./data', async () => {
  const dir = tempDir();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const store = await openStore();
    assert.equal(store.location, join(process.cwd(), 'data', 'stellwerk.db'));
    await store.close();
    assert.ok(existsSync(join(dir, 'data', 'stellwerk.db')));
  } finally {
    process.chdir(cwd);
  }
});
