import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createPostgresStore, openStore } from './open-store.js';
import { createTestDatabase, type TestDatabase } from './testing/databases.js';
import { key, postgresSubject, request, storeContract, MIGRATIONS } from './testing/store-contract.js';

storeContract('Postgres', postgresSubject);

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.drop();
});

test('two Postgres stores migrating a new database at the same moment apply each migration once', async () => {
  const stores = [createPostgresStore(database.url), createPostgresStore(database.url), createPostgresStore(database.url)];
  try {
    await Promise.all(stores.map((store) => store.migrate()));
    for (const store of stores) assert.deepEqual(await store.appliedMigrations(), MIGRATIONS);
    await stores[0]!.insertKey(key('shared'));
    assert.equal((await stores[1]!.getKey('shared'))?.id, 'shared');
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});

test('the Postgres store knows its URL for LISTEN/NOTIFY and logs it without a password', async () => {
  const store = await openStore({ url: database.url });
  try {
    assert.equal(store.kind, 'postgres');
    assert.equal(store.connectionString, database.url);
    assert.ok(store.location.startsWith('postgres://'));
  } finally {
    await store.close();
  }
  const withPassword = createPostgresStore('postgres://gw:s3cret@127.0.0.1:1/gw');
  assert.ok(!withPassword.location.includes('s3cret'));
  await withPassword.close();
});

test('Postgres columns have the documented types: bigint, jsonb, boolean', async () => {
  const store = await openStore({ url: database.url });
  try {
    const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = 'public' and table_name in ('keys', 'teams', 'requests')`.execute(store.db);
    const type = (table: string, column: string): string | undefined =>
      columns.rows.find((row) => row.table_name === table && row.column_name === column)?.data_type;
    assert.equal(type('requests', 'cost_nanos'), 'bigint');
    assert.equal(type('requests', 'ts'), 'bigint');
    assert.equal(type('requests', 'stream'), 'boolean');
    assert.equal(type('keys', 'metadata'), 'jsonb');
    assert.equal(type('keys', 'data_policy'), 'jsonb');
    assert.equal(type('teams', 'models'), 'jsonb');
    assert.equal(type('keys', 'budget'), 'double precision');
    const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes where schemaname = 'public'`.execute(store.db);
    const names = indexes.rows.map((row) => row.indexname);
    for (const name of ['keys_hash_unique', 'keys_previous_hash', 'keys_team_id', 'requests_ts_id', 'requests_key_ts', 'requests_team_ts', 'requests_alias_ts']) {
      assert.ok(names.includes(name), name);
    }
    assert.ok(!names.includes('requests_ts'), 'requests_ts is dropped: requests_ts_id covers it');
    // int8 arrives as a JS number, not pg's default string.
    await store.insertRequests([request('typed', { ts: 1_700_000_000_123, cost_nanos: 9_007_199_254_740_991 })]);
    const [row] = await store.listRequests({ from: 1_700_000_000_123, to: 1_700_000_000_124 });
    assert.equal(row?.ts, 1_700_000_000_123);
    assert.equal(row?.cost_nanos, Number.MAX_SAFE_INTEGER);
  } finally {
    await store.close();
  }
});

test('a Postgres batch keeps odd text and JSON columns as they were, and a lone surrogate cannot make it fail', async () => {
  const store = await openStore({ url: database.url });
  try {
    const odd = 'quote " backslash \\ tab\t newline\n é 😀 \\ud800';
    const attempts = [{ deployment: 'azure-eu', status: 500, error_code: 'upstream_error', latency_ms: 12 }, { deployment: 'own-gpu', status: 200, error_code: null, latency_ms: 30 }];
    await store.insertRequests([
      request('odd-text', { alias: odd, attempts, pii_types: { email: 2, iban: 1 }, energy_wh: 0.125, ttft_ms: null }),
      request('lone-surrogate', { alias: 'broken \ud800 name', error_code: '\udc00' }),
    ]);
    const oddRow = await store.getRequest('odd-text');
    assert.equal(oddRow?.alias, odd);
    assert.deepEqual(oddRow?.attempts, attempts);
    assert.deepEqual(oddRow?.pii_types, { email: 2, iban: 1 });
    assert.equal(oddRow?.energy_wh, 0.125);
    assert.equal(oddRow?.ttft_ms, null);
    const lone = await store.getRequest('lone-surrogate');
    assert.equal(lone?.alias, 'broken \ufffd name');
    assert.equal(lone?.error_code, '\ufffd');
  } finally {
    await store.close();
  }
});

test('a Postgres store that cannot connect fails migrate with the driver error', async () => {
  await assert.rejects(openStore({ url: 'postgres://postgres@127.0.0.1:1/none' }), (error: unknown) => {
    assert.ok(error instanceof Error);
    return true;
  });
});
