import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { decodeChange, encodeChange } from './change-events.js';
import { createNotifier, pickNotifier } from './notifiers.js';
import { InProcessChangeNotifier } from './in-process-notifier.js';
import { openStore } from './open-store.js';
import { PostgresChangeNotifier } from './postgres-notifier.js';
import { RedisChangeNotifier } from './redis-notifier.js';
import type { SqlGovernanceStore } from './sql-store.js';
import { TEST_POSTGRES_URL, TEST_REDIS_URL, adminQuery, createTestDatabase, uniqueName, waitFor, type TestDatabase } from './testing/databases.js';
import type { ChangeEvent, ChangeNotifier } from './types.js';

function collect(notifier: ChangeNotifier): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  notifier.subscribe((event) => events.push(event));
  return events;
}

test('change events travel as small JSON; anything else on the channel is ignored', () => {
  assert.equal(encodeChange({ kind: 'key', id: 'k1' }), '{"kind":"key","id":"k1"}');
  assert.deepEqual(decodeChange('{"kind":"team","id":"t1","extra":1}'), { kind: 'team', id: 't1' });
  assert.equal(decodeChange('{"kind":"user","id":"u"}'), null);
  assert.equal(decodeChange('{"kind":"key","id":5}'), null);
  assert.equal(decodeChange('not json'), null);
});

describe('in-process notifier', () => {
  test('a publish reaches every subscriber, after publish returned; a throwing listener harms no other', async () => {
    const errors: unknown[] = [];
    const notifier = new InProcessChangeNotifier({ onError: (error) => errors.push(error) });
    notifier.subscribe(() => {
      throw new Error('listener broken');
    });
    const events = collect(notifier);
    await notifier.publish({ kind: 'key', id: 'k1' });
    assert.deepEqual(events, [], 'listeners run asynchronously');
    await waitFor(() => events.length === 1, 1_000, 'the event');
    assert.deepEqual(events, [{ kind: 'key', id: 'k1' }]);
    assert.equal(errors.length, 1);
    await notifier.close();
    await assert.rejects(notifier.publish({ kind: 'key', id: 'k2' }), /closed/);
  });

  test('notifiers on one emitter hear each other', async () => {
    const emitter = new EventEmitter();
    const a = new InProcessChangeNotifier({ emitter });
    const b = new InProcessChangeNotifier({ emitter });
    const heard = collect(b);
    await a.publish({ kind: 'team', id: 't1' });
    await waitFor(() => heard.length === 1, 1_000, 'the event on b');
    await Promise.all([a.close(), b.close()]);
  });
});

describe('Postgres LISTEN/NOTIFY notifier', () => {
  test('a publish on one instance reaches another (two connections) within a second', async () => {
    const channel = uniqueName('stw_notify');
    const a = new PostgresChangeNotifier({ connectionString: TEST_POSTGRES_URL, channel });
    const b = new PostgresChangeNotifier({ connectionString: TEST_POSTGRES_URL, channel });
    await Promise.all([a.start(), b.start()]);
    try {
      const onA = collect(a);
      const onB = collect(b);
      await a.publish({ kind: 'key', id: 'k-1' });
      await b.publish({ kind: 'team', id: 't-1' });
      await waitFor(() => onB.length === 2 && onA.length === 2, 1_000, 'both events on both instances');
      assert.deepEqual(onB, [{ kind: 'key', id: 'k-1' }, { kind: 'team', id: 't-1' }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('when the listening connection is killed it reconnects, asks for a resync, and hears again', async () => {
    const channel = uniqueName('stw_notify');
    const errors: unknown[] = [];
    const listener = new PostgresChangeNotifier({ connectionString: TEST_POSTGRES_URL, channel, reconnectMinMs: 10, onError: (error) => errors.push(error) });
    // Not started: it publishes through its pool and does not listen itself.
    const publisher = new PostgresChangeNotifier({ connectionString: TEST_POSTGRES_URL, channel });
    await listener.start();
    try {
      const heard = collect(listener);
      let resyncs = 0;
      listener.onResync(() => {
        resyncs += 1;
      });
      const killed = await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${channel}"`]);
      assert.equal(killed.rowCount, 1);
      await waitFor(() => resyncs === 1, 10_000, 'the reconnect');
      assert.ok(errors.length >= 1);
      assert.equal(listener.listening, true);
      await publisher.publish({ kind: 'key', id: 'after-reconnect' });
      await waitFor(() => heard.length === 1, 1_000, 'the event after the reconnect');
    } finally {
      await Promise.all([listener.close(), publisher.close()]);
    }
  });

  test('a notifier that cannot connect fails start()', async () => {
    const notifier = new PostgresChangeNotifier({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    await assert.rejects(notifier.start());
    await notifier.close();
  });

  test('channel names are checked', () => {
    assert.throws(() => new PostgresChangeNotifier({ connectionString: TEST_POSTGRES_URL, channel: 'bad"name' }), /invalid Postgres channel/);
  });
});

describe('Redis pub/sub notifier', () => {
  test('a publish on one instance reaches another (two connections) within a second', async () => {
    const channel = uniqueName('stellwerk_test:changes');
    const a = new RedisChangeNotifier({ url: TEST_REDIS_URL, channel });
    const b = new RedisChangeNotifier({ url: TEST_REDIS_URL, channel });
    await Promise.all([a.start(), b.start()]);
    try {
      const onA = collect(a);
      const onB = collect(b);
      await a.publish({ kind: 'team', id: 't-9' });
      await b.publish({ kind: 'key', id: 'k-9' });
      await waitFor(() => onA.length === 2 && onB.length === 2, 1_000, 'both events on both instances');
      assert.deepEqual(onA, [{ kind: 'team', id: 't-9' }, { kind: 'key', id: 'k-9' }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('when the subscriber connection is killed it resubscribes, asks for a resync, and hears again', async () => {
    const channel = uniqueName('stellwerk_test:changes');
    const connectionName = uniqueName('stw_sub');
    const listener = new RedisChangeNotifier({ url: TEST_REDIS_URL, channel, connectionName, onError: () => undefined });
    const publisher = new RedisChangeNotifier({ url: TEST_REDIS_URL, channel });
    await Promise.all([listener.start(), publisher.start()]);
    const admin = new Redis(TEST_REDIS_URL);
    try {
      const heard = collect(listener);
      let resyncs = 0;
      listener.onResync(() => {
        resyncs += 1;
      });
      const clients = (await admin.client('LIST')) as string;
      const line = clients.split('\n').find((entry) => entry.includes(` name=${connectionName} `));
      const id = line ? /(?:^|\s)id=(\d+)/.exec(line)?.[1] : undefined;
      assert.ok(id, 'the subscriber connection is listed by its name');
      await admin.client('KILL', 'ID', id);
      await waitFor(() => resyncs === 1, 10_000, 'the resubscription');
      await publisher.publish({ kind: 'key', id: 'after-reconnect' });
      await waitFor(() => heard.length === 1, 1_000, 'the event after the reconnect');
    } finally {
      admin.disconnect();
      await Promise.all([listener.close(), publisher.close()]);
    }
  });
});

describe('createNotifier', () => {
  let database: TestDatabase;
  let postgres: SqlGovernanceStore;
  let sqlite: SqlGovernanceStore;
  before(async () => {
    database = await createTestDatabase();
    postgres = await openStore({ url: database.url });
    sqlite = await openStore({ url: ':memory:' });
  });
  after(async () => {
    await Promise.all([postgres.close(), sqlite.close()]);
    await database.drop();
  });

  test('picks Redis when REDIS_URL is given, else Postgres for a Postgres store, else in-process', () => {
    assert.equal(pickNotifier({ redisUrl: 'redis://x', store: postgres }), 'redis');
    assert.equal(pickNotifier({ redisUrl: '', store: postgres }), 'postgres');
    assert.equal(pickNotifier({ store: sqlite }), 'in-process');
    assert.equal(pickNotifier({}), 'in-process');
  });

  test('builds a working notifier of each kind', async () => {
    const prefix = `${uniqueName('stellwerk_test')}:`;
    const redis = await createNotifier({ redisUrl: TEST_REDIS_URL, redisPrefix: prefix, store: postgres });
    const pg = await createNotifier({ store: postgres, channel: uniqueName('stw_factory') });
    const local = await createNotifier({ store: sqlite });
    try {
      assert.ok(redis instanceof RedisChangeNotifier);
      assert.equal(redis.channel, `${prefix}changes`);
      assert.ok(pg instanceof PostgresChangeNotifier);
      assert.ok(local instanceof InProcessChangeNotifier);
      for (const notifier of [redis, pg, local]) {
        const heard = collect(notifier);
        await notifier.publish({ kind: 'key', id: 'factory' });
        await waitFor(() => heard.length === 1, 1_000, 'the event');
      }
    } finally {
      await Promise.all([redis.close(), pg.close(), local.close()]);
    }
  });

  test('a Redis that cannot be reached fails creation; connection problems go to the logger', async () => {
    const warnings: string[] = [];
    const logger = { warn: (details: object, message: string) => warnings.push(`${message} ${JSON.stringify(details)}`) };
    await assert.rejects(createNotifier({ redisUrl: 'redis://127.0.0.1:1', logger }));
    assert.ok(warnings.length >= 1);
    assert.match(warnings[0]!, /change notifications: connection problem/);
  });
});
