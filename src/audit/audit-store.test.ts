import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createPostgresStore, openStore } from '../store/open-store.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import { createTestDatabase, type TestDatabase } from '../store/testing/databases.js';
import { AuditStore } from './audit-store.js';
import { canonicalJson, checkpointSignature, entryHash, entryPreimage, GENESIS_HASH } from './canonical.js';
import type { AuditEvent } from './types.js';
import { verifyAuditChain } from './verify.js';

const SECRET = 'audit-secret-for-tests-0123456789';

function event(n: number, team: string | null = null): AuditEvent {
  return { id: randomUUID(), ts: 1_700_000_000_000 + n, kind: 'request', actor: null, team_id: team, subject: `req-${n}`, data: { n, note: 'ünïcode ✓' } };
}

async function appendMany(audit: AuditStore, count: number, options = { checkpointEvery: 1000, secret: SECRET as string | null }): Promise<void> {
  for (let i = 0; i < count; i += 10) await audit.append(Array.from({ length: Math.min(10, count - i) }, (_, j) => event(i + j + 1)), options);
}

test('canonical JSON sorts members, drops whitespace and writes numbers and strings as JSON does', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x"y'], c: { z: 1.5, y: -0 } }), '{"a":[true,null,"x\\"y"],"b":1,"c":{"y":0,"z":1.5}}');
  assert.throws(() => canonicalJson({ a: Number.NaN }), /finite/);
  assert.equal(canonicalJson({ a: undefined, b: 'é\u2028', '\u00e9': 1, Z: 2 } as never), '{"Z":2,"b":"é\u2028","é":1}');
});

test("an entry's preimage is the canonical JSON of all its fields but the hash", () => {
  const entry = { seq: 7, id: 'e"7', ts: 1_700_000_000_000, kind: 'request' as const, actor: null, team_id: 't', subject: null, data: { z: [1, { b: 2, a: 'x' }], a: null }, prev_hash: 'f'.repeat(64) };
  const expected = canonicalJson({ ...entry });
  assert.equal(entryPreimage(entry), expected);
  assert.equal(entryHash(entry), createHash('sha256').update(expected).digest('hex'));
});

function chainSuite(name: string, open: () => Promise<{ store: SqlGovernanceStore; cleanup: () => Promise<void> }>): void {
  describe(`audit chain on ${name}`, () => {
    let store: SqlGovernanceStore;
    let cleanup: () => Promise<void>;
    let audit: AuditStore;
    before(async () => {
      ({ store, cleanup } = await open());
      audit = new AuditStore(store.db, store.kind);
    });
    after(() => cleanup());

    test('entries get gapless seqs and each hash chains to the one before', async () => {
      await appendMany(audit, 25, { checkpointEvery: 10, secret: SECRET });
      const entries = await audit.entriesAfter(0, 100);
      assert.deepEqual(entries.map((entry) => entry.seq), Array.from({ length: 25 }, (_, i) => i + 1));
      assert.equal(entries[0]!.prev_hash, GENESIS_HASH);
      for (let i = 1; i < entries.length; i++) assert.equal(entries[i]!.prev_hash, entries[i - 1]!.hash);
      const { hash, ...rest } = entries[7]!;
      assert.equal(entryHash(rest), hash);
      const report = await verifyAuditChain(audit, SECRET);
      assert.equal(report.ok, true, JSON.stringify(report.broken));
      assert.equal(report.entries, 25);
      assert.deepEqual(report.checkpoints.count, 2); // at 10 and 20
      assert.equal(report.checkpoints.signatures, 'verified');
      assert.equal((await audit.checkpoint(SECRET))?.seq, 25);
      assert.equal(await audit.checkpoint(SECRET), null, 'no second checkpoint of the same head');
    });

    test('appending an event whose id is in the log already keeps one entry', async () => {
      const again = event(99);
      await audit.append([again], { checkpointEvery: 1000, secret: SECRET });
      const appended = await audit.append([again, again], { checkpointEvery: 1000, secret: SECRET });
      assert.equal(appended.length, 0);
      assert.equal((await audit.list({ limit: 1000 })).filter((entry) => entry.id === again.id).length, 1);
    });

    test('a changed entry is found at its seq', async () => {
      await store.db.updateTable('audit_entries').set({ data: canonicalJson({ n: 5, note: 'changed' }) }).where('seq', '=', 5).execute();
      const report = await verifyAuditChain(audit, SECRET);
      assert.equal(report.ok, false);
      assert.equal(report.broken?.seq, 5);
      assert.match(report.broken!.reason, /content was changed/);
    });
  });
}

chainSuite('SQLite', async () => {
  const store = await openStore({ url: ':memory:' });
  return { store, cleanup: () => store.close() };
});

let pgDatabase: TestDatabase | null = null;
chainSuite('Postgres', async () => {
  pgDatabase = await createTestDatabase();
  const store = await openStore({ url: pgDatabase.url, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await pgDatabase!.drop();
    },
  };
});

test('a deleted entry is found at its seq (SQLite)', async () => {
  const store = await openStore({ url: ':memory:' });
  try {
    const audit = new AuditStore(store.db, store.kind);
    await appendMany(audit, 12);
    await store.db.deleteFrom('audit_entries').where('seq', '=', 7).execute();
    const report = await verifyAuditChain(audit, SECRET);
    assert.equal(report.broken?.seq, 7);
    assert.match(report.broken!.reason, /missing/);
    // The last entry deleted: the chain ends early, but a checkpoint beyond it gives it away.
    const other = await openStore({ url: ':memory:' });
    const tail = new AuditStore(other.db, other.kind);
    await appendMany(tail, 10, { checkpointEvery: 10, secret: SECRET });
    await other.db.deleteFrom('audit_entries').where('seq', '=', 10).execute();
    assert.equal((await verifyAuditChain(tail, SECRET)).broken?.seq, 10);
    await other.close();
  } finally {
    await store.close();
  }
});

test('a re-computed chain passes the hash walk but not the signed checkpoint, given the secret', async () => {
  const store = await openStore({ url: ':memory:' });
  try {
    const audit = new AuditStore(store.db, store.kind);
    await appendMany(audit, 20, { checkpointEvery: 20, secret: SECRET });
    // An attacker with database access rewrites entry 3 and re-computes every hash after it,
    // and the checkpoint's hash, but cannot sign without the secret.
    const entries = await audit.entriesAfter(0, 100);
    let previous = entries[1]!.hash;
    for (const entry of entries.slice(2)) {
      const data = entry.seq === 3 ? { ...entry.data, n: 333 } : entry.data;
      const unsigned = { ...entry, data, prev_hash: previous };
      const hash = entryHash(unsigned);
      await store.db.updateTable('audit_entries').set({ data: canonicalJson(data), prev_hash: previous, hash }).where('seq', '=', entry.seq).execute();
      previous = hash;
    }
    await store.db.updateTable('audit_checkpoints').set({ hash: previous }).where('seq', '=', 20).execute();

    const withSecret = await verifyAuditChain(audit, SECRET);
    assert.equal(withSecret.ok, false);
    assert.equal(withSecret.broken?.seq, 20);
    assert.match(withSecret.broken!.reason, /signature/);
    const withoutSecret = await verifyAuditChain(audit, null);
    assert.equal(withoutSecret.ok, true, 'without the secret the forgery cannot be told');
    assert.equal(withoutSecret.checkpoints.signatures, 'not_checked');
    // The forger signing with a guessed secret is caught as well.
    await store.db.updateTable('audit_checkpoints').set({ signature: checkpointSignature('guessed-secret-0000000', 20, previous) }).where('seq', '=', 20).execute();
    assert.equal((await verifyAuditChain(audit, SECRET)).broken?.seq, 20);
  } finally {
    await store.close();
  }
});

test('without a secret, checkpoints are written unsigned and verification says so', async () => {
  const store = await openStore({ url: ':memory:' });
  try {
    const audit = new AuditStore(store.db, store.kind);
    await appendMany(audit, 10, { checkpointEvery: 5, secret: null });
    const report = await verifyAuditChain(audit, SECRET);
    assert.equal(report.ok, true);
    assert.equal(report.checkpoints.signatures, 'unsigned');
    assert.equal(report.checkpoints.last?.signature, null);
  } finally {
    await store.close();
  }
});

describe('concurrent appends on Postgres', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  test('two store connections appending at once keep one gapless chain', async () => {
    const first = createPostgresStore(database.url, { poolSize: 4 });
    const second = createPostgresStore(database.url, { poolSize: 4 });
    try {
      await first.migrate();
      await second.migrate();
      const stores = [new AuditStore(first.db, 'postgres'), new AuditStore(second.db, 'postgres')];
      const writes: Promise<unknown>[] = [];
      for (let round = 0; round < 20; round++) {
        for (const [index, audit] of stores.entries()) {
          writes.push(audit.append([event(round * 10 + index), event(round * 10 + index + 5)], { checkpointEvery: 7, secret: SECRET }));
        }
      }
      await Promise.all(writes);
      const report = await verifyAuditChain(stores[0]!, SECRET);
      assert.equal(report.ok, true, JSON.stringify(report.broken));
      assert.equal(report.entries, 80);
      const { rows } = await sql<{ n: number }>`select count(distinct prev_hash)::int as n from audit_entries`.execute(first.db);
      assert.equal(rows[0]!.n, 80, 'no two entries share a predecessor: the chain did not fork');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
