import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { admitted, busiestWindow, refused, request, runLimitBackendContract, scopeWith, WINDOW_MS } from './backend-contract.js';
import { budgetPeriodId, nextPeriodStart } from './budget-period.js';
import { createLimitBackend } from './create-limit-backend.js';
import { MemoryLimitBackend } from './memory-backend.js';
import { LimitsUnavailableError, RedisLimitBackend, type RedisLimitBackendOptions } from './redis-backend.js';
import { CALENDAR_LUA, REQUEST_LOG_MATH_LUA, WINDOW_MATH_LUA } from './redis-scripts.js';
import { waitForRoomMs } from './sliding-window.js';
import type { BudgetPeriod } from '../types.js';
import type { LimitLog } from './types.js';
import { deleteKeysUnder, hangingProxy, redisNow as redisClock } from './testing/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `stellwerk-test:limits:${randomUUID()}:`;
const admin = new Redis(REDIS_URL);
const backends: RedisLimitBackend[] = [];

function backend(options: Partial<RedisLimitBackendOptions> = {}): RedisLimitBackend {
  const created = new RedisLimitBackend({ url: REDIS_URL, keyPrefix: PREFIX, ...options });
  backends.push(created);
  return created;
}

const redisNow = (): Promise<number> => redisClock(admin);

/** Waits for the next window edge when fewer than `ms` remain, so a test's counts share one window. */
async function windowRoom(ms: number, windowMs = WINDOW_MS): Promise<void> {
  const left = windowMs - ((await redisNow()) % windowMs);
  if (left < ms) await sleep(left + 5);
}

async function closeAll(): Promise<void> {
  await Promise.all(backends.splice(0).map((created) => created.close()));
  await deleteKeysUnder(admin, PREFIX);
}

after(async () => {
  await closeAll();
  await admin.quit();
});

runLimitBackendContract({
  name: 'redis',
  create: async (options = {}) => backend(options),
  windowRoom,
  close: async () => {},
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

function logRecorder(): { log: LimitLog; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return { log: (message, { level }) => lines.push({ level, message }), lines };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `redis://127.0.0.1:${port}`;
}

describe('RedisLimitBackend', () => {
  test('three replicas, 2,000 concurrent admissions, rpm 600: exactly 600 admitted', async () => {
    const replicas = [backend(), backend(), backend()];
    const key = scopeWith({ rpm: 600 });
    await Promise.all(replicas.map((replica) => replica.spend(key))); // connected
    await windowRoom(5_000);
    const admissions = await Promise.all(Array.from({ length: 2_000 }, (_, i) => replicas[i % 3]!.admit(request([key]))));
    assert.equal(admissions.filter((admission) => admission.ok).length, 600);
    for (const admission of admissions) if (!admission.ok) refused(admission, 'rpm', key);
  });

  test('a $1.00 budget, 1,000 concurrent requests reserving $0.012 and costing $0.01: spend is exact and within one request', async () => {
    const replicas = [backend(), backend(), backend()];
    const key = scopeWith({ budgetNanos: 1_000_000_000, budgetPeriod: 'month' });
    const settled = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        const replica = replicas[i % 3]!;
        const admission = await replica.admit(request([key], 1, 12_000_000));
        if (!admission.ok) return 0;
        await replica.settle(admission.reservation, 1, 10_000_000);
        return 10_000_000;
      }),
    );
    const sum = settled.reduce((total: number, cost) => total + cost, 0);
    assert.ok(sum >= 83 * 10_000_000, `at least floor($1.00 / $0.012) requests ran, got ${sum / 10_000_000}`);
    const spent = await replicas[0]!.spend(key);
    assert.equal(spent, sum);
    assert.ok(spent <= 1_000_000_000 + 12_000_000);
  });

  test("a crashed replica's stale parallel lease is reclaimed", async () => {
    const limits = backend({ leaseMs: 600_000 });
    const key = scopeWith({ maxParallel: 1 });
    const setKey = `${PREFIX}parallel:${key.id}`;
    await admin.zadd(setKey, (await redisNow()) - 600_001, 'crashed-replica-reservation');
    admitted(await limits.admit(request([key])));
    assert.equal(await admin.zscore(setKey, 'crashed-replica-reservation'), null);
    refused(await limits.admit(request([key])), 'parallel', key);
  });

  test('every key expires: the rpm log two windows after its last admission (leased entries are dated ahead), tpm windows after the next window, parallel sets and the open set after a lease, budgets after the period', async () => {
    const limits = backend({ leaseMs: 600_000 });
    const key = scopeWith({ rpm: 10, tpm: 10_000, maxParallel: 2, budgetNanos: 1_000_000, budgetPeriod: 'month' });
    const forever = scopeWith({ budgetNanos: 1_000_000, budgetPeriod: 'total' });
    const reservation = admitted(await limits.admit(request([key, forever], 1_000, 5_000)));
    const window = reservation.charged[`tpm:${key.id}`];
    const period = reservation.charged[`budget:${key.id}`];
    const keys = {
      rpm: `${PREFIX}rpm:${key.id}`,
      tpm: `${PREFIX}tpm:${key.id}:${window}`,
      parallel: `${PREFIX}parallel:${key.id}`,
      budget: `${PREFIX}budget:${key.id}:${period}`,
      total: `${PREFIX}budget:${forever.id}:total`,
      open: `${PREFIX}open`,
    };
    const ttl = async (name: keyof typeof keys): Promise<number> => admin.pttl(keys[name]);
    assert.ok((await ttl('rpm')) > WINDOW_MS && (await ttl('rpm')) <= 2 * WINDOW_MS, 'rpm');
    assert.ok((await ttl('tpm')) > 0 && (await ttl('tpm')) <= 2 * WINDOW_MS + 1_000, 'tpm');
    const admittedAt = reservation.charged[`rpm:${key.id}`];
    assert.equal(await admin.zscore(keys.rpm, `${reservation.id}:${key.id}`), admittedAt, 'the log holds the reservation at its Redis time');
    for (const name of ['parallel', 'open'] as const) assert.ok((await ttl(name)) > 0 && (await ttl(name)) <= 600_000, name);
    assert.ok((await ttl('budget')) > 0 && (await ttl('budget')) <= 31 * 86_400_000 + 600_000);
    assert.equal(await ttl('total'), -1, 'a total budget never renews: one key per scope, kept');
    await limits.settle(reservation, 400, 3_000);
    assert.equal(await admin.get(keys.tpm), '400', 'corrected in the window it was charged to');
    assert.equal(await admin.get(keys.budget), '3000');
    assert.ok((await ttl('budget')) > 0, 'settling keeps the expiry');
  });

  test('a settlement does not bring back a counter that has expired', async () => {
    const limits = backend();
    const key = scopeWith({ budgetNanos: 1_000_000 });
    const reservation = admitted(await limits.admit(request([key], 1, 5_000)));
    const budgetKey = `${PREFIX}budget:${key.id}:${reservation.charged[`budget:${key.id}`]}`;
    await admin.del(budgetKey);
    await limits.settle(reservation, 1, 1_000);
    assert.equal(await admin.exists(budgetKey), 0);
  });

  test("periods come from Redis's clock", async () => {
    const limits = backend();
    const key = scopeWith({ budgetNanos: 1_000, budgetPeriod: 'day' });
    const before = await redisNow();
    const reservation = admitted(await limits.admit(request([key], 1, 1)));
    const after = await redisNow();
    const charged = reservation.charged[`budget:${key.id}`];
    assert.ok([budgetPeriodId('day', before), budgetPeriodId('day', after)].includes(charged!));
  });

  test('the Lua calendar and window arithmetic agree with the TypeScript ones', async () => {
    const periods: BudgetPeriod[] = ['day', 'week', 'month', 'total'];
    const edges = [0, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2020, 11, 31), Date.UTC(2021, 0, 3), Date.UTC(2024, 11, 30), Date.UTC(2099, 11, 31, 12)];
    const times = [...edges, ...Array.from({ length: 200 }, () => Math.floor(Math.random() * Date.UTC(2100, 0, 1)))];
    const calendar = `${CALENDAR_LUA}
      local out = {}
      for i, at in ipairs(ARGV) do
        local now = tonumber(at)
        for _, p in ipairs({'day', 'week', 'month', 'total'}) do
          table.insert(out, period_id(p, now))
          table.insert(out, fmt(next_period_start(p, now) or -1))
        end
      end
      return out`;
    const answer = (await admin.eval(calendar, 0, ...times.map(String))) as string[];
    const expected = times.flatMap((at) => periods.flatMap((period) => [budgetPeriodId(period, at), String(nextPeriodStart(period, at) ?? -1)]));
    assert.deepEqual(answer, expected);

    const cases = Array.from({ length: 300 }, () => {
      const limit = 1 + Math.floor(Math.random() * 1_000);
      return [Math.floor(Math.random() * 1_200), Math.floor(Math.random() * 1_200), Math.floor(Math.random() * WINDOW_MS), limit, 1 + Math.floor(Math.random() * 50)];
    });
    const windowScript = `${WINDOW_MATH_LUA}
      local out = {}
      for i = 1, #ARGV, 5 do
        table.insert(out, wait_ms(tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ${WINDOW_MS}, tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])))
        table.insert(out, remaining(tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ${WINDOW_MS}, tonumber(ARGV[i + 3])))
      end
      return out`;
    const waits = (await admin.eval(windowScript, 0, ...cases.flat().map(String))) as number[];
    const { remainingInWindow } = await import('./sliding-window.js');
    assert.deepEqual(
      waits,
      cases.flatMap(([current, previous, elapsed, limit, amount]) => [
        waitForRoomMs({ current: current!, previous: previous! }, elapsed!, WINDOW_MS, limit!, amount!),
        remainingInWindow({ current: current!, previous: previous! }, elapsed!, WINDOW_MS, limit!),
      ]),
    );
  });

  test('the request log counts a leased block by its weight: count, trim and the admission that must leave', async () => {
    const key = `${PREFIX}rpm:log-math`;
    const weights = `${PREFIX}rpmw:log-math`;
    // a (t=1000), a block of 5 (t=2000), b (t=3000): 7 admissions in three entries.
    await admin.zadd(key, 1000, 'a:key:x', 2000, 'Lblock#5', 3000, 'b:key:x');
    await admin.set(weights, '4');
    const script = `${REQUEST_LOG_MATH_LUA}
      local out = { log_count(KEYS[1], KEYS[2]) }
      for _, L in ipairs({ 7, 6, 2, 1 }) do table.insert(out, log_leaving_at(KEYS[1], KEYS[2], 7, L)) end
      log_trim(KEYS[1], KEYS[2], '2500')
      table.insert(out, log_count(KEYS[1], KEYS[2]))
      table.insert(out, redis.call('GET', KEYS[2]))
      return out`;
    const answer = (await admin.eval(script, 2, key, weights)) as (number | string)[];
    // For one more under 7, one admission must leave (a); under 6, two (a and one of the block);
    // under 2, six (a and the whole block); under 1, all seven (b last).
    assert.deepEqual(answer, [7, '1000', '2000', '2000', '3000', 1, '0']);
  });

  test('a short window rolls over on Redis time: a refused request fits after retryAfterMs', async () => {
    const limits = backend({ windowMs: 1_000 });
    const key = scopeWith({ rpm: 1 });
    admitted(await limits.admit(request([key])));
    const refusal = refused(await limits.admit(request([key])), 'rpm', key);
    assert.ok(refusal.retryAfterMs <= 1_000);
    await sleep(refusal.retryAfterMs + 5);
    admitted(await limits.admit(request([key])));
  });

  test('rpm is exact across window edges on Redis time: no window ever holds more than rpm admissions', async () => {
    const windowMs = 1_000;
    const replicas = [backend({ windowMs }), backend({ windowMs }), backend({ windowMs })];
    const key = scopeWith({ rpm: 20 });
    await Promise.all(replicas.map((replica) => replica.spend(key))); // connected
    // A burst just before a fixed window's edge, then one just after it, where two weighted
    // windows would have let most of a second burst through.
    const left = windowMs - ((await redisNow()) % windowMs);
    await sleep(left + windowMs - 100);
    const times: number[] = [];
    const burst = async (): Promise<number> => {
      const admissions = await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.admit(request([key]))));
      let count = 0;
      for (const admission of admissions) {
        if (!admission.ok) continue;
        times.push(Number(admission.reservation.charged[`rpm:${key.id}`]));
        count += 1;
      }
      return count;
    };
    assert.equal(await burst(), 20);
    await sleep(200);
    assert.equal(await burst(), 0, 'just past the edge, the burst is still in the window');
    // Then a steady stream across several edges, from three replicas at once.
    const until = Date.now() + 3_500;
    while (Date.now() < until) {
      await burst();
      await sleep(37);
    }
    assert.ok(times.length >= 20 * 3, `room was used as it came (${times.length})`);
    assert.equal(busiestWindow(times, windowMs), 20);
  });

  test('fail-closed: with Redis unreachable, admissions are unavailable (503), not hung', async () => {
    const { log, lines } = logRecorder();
    const limits = backend({ url: await closedPortUrl(), onUnavailable: 'fail-closed', log });
    const key = scopeWith({ rpm: 10 });
    const admission = await limits.admit(request([key]));
    assert.ok(!admission.ok && admission.refusal === 'unavailable', JSON.stringify(admission));
    assert.equal(admission.retryAfterMs, 1_000);
    assert.equal(admission.scope, key.id);
    assert.equal(admission.status.limitRequests, null);
    admitted(await limits.admit(request([scopeWith({})])));
    await limits.settle({ id: 'x', scopes: [key], tokens: 1, costNanos: 1, charged: { '@backend': 'redis', [`tpm:${key.id}`]: '1' } }, 1, 1);
    await assert.rejects(limits.spend(key), LimitsUnavailableError);
    await assert.rejects(limits.seedSpend(key, 1), LimitsUnavailableError);
    assert.ok(lines.some((line) => line.level === 'error' && line.message.includes('fail-closed')));
  });

  test('fail-open: with Redis unreachable, limits hold per replica in memory, and it is logged loudly', async () => {
    const { log, lines } = logRecorder();
    const limits = backend({ url: await closedPortUrl(), onUnavailable: 'fail-open', log });
    const key = scopeWith({ rpm: 1, maxParallel: 1, budgetNanos: 1_000 });
    const reservation = admitted(await limits.admit(request([key], 1, 400)));
    assert.equal(reservation.charged['@backend'], 'memory');
    refused(await limits.admit(request([key], 1, 400)), 'rpm', key);
    await limits.settle(reservation, 1, 100);
    assert.equal(await limits.spend(key), 100);
    await limits.seedSpend(scopeWith({ budgetNanos: 1 }), 1);
    assert.ok(lines.some((line) => line.level === 'error' && line.message.includes('fail-open')));
  });

  test('a connection that stops answering fails within the command timeout, and is replaced when it stays silent', async () => {
    const proxy = await hangingProxy(REDIS_URL);
    const lines: string[] = [];
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    const logged = (pattern: RegExp): Promise<void> =>
      lines.some((line) => pattern.test(line)) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }));
    const log: LimitLog = (message) => {
      lines.push(message);
      for (const waiter of waiters.filter(({ pattern }) => pattern.test(message))) waiter.resolve();
    };
    const limits = backend({ url: proxy.url, commandTimeoutMs: 200, log });
    const key = scopeWith({ rpm: 1_000 });
    admitted(await limits.admit(request([key])));
    proxy.hang();
    const admission = await limits.admit(request([key]));
    assert.ok(!admission.ok && admission.refusal === 'unavailable', JSON.stringify(admission));
    assert.match(admission.reason, /timed out/i);
    let replaced = false;
    void logged(/stopped answering; reconnecting/).then(() => (replaced = true));
    while (!replaced) {
      const next = await limits.admit(request([key]));
      assert.ok(!next.ok && next.refusal === 'unavailable');
    }
    const reachable = logged(/reachable again/);
    proxy.resume();
    await reachable;
    admitted(await limits.admit(request([key])));
    await limits.close();
    await proxy.close();
  });

  test('settlements wait for the next admission and go before it in one script call', { timeout: 10_000 }, async () => {
    const limits = backend({ settleDelayMs: 60_000 });
    const monitor = await admin.monitor();
    const scripts: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      // EVALSHA, or EVAL the first time a script runs on this Redis.
      if (/^eval(sha)?$/i.test(args[0] ?? '') && args.some((arg) => arg.startsWith(PREFIX))) scripts.push(args);
    });
    try {
      const keys = [scopeWith({ maxParallel: 1, budgetNanos: 1_000_000 }), scopeWith({ tpm: 10_000 }), scopeWith({ maxParallel: 1, tpm: 10_000, budgetNanos: 1_000_000 })];
      const reservations = [];
      for (const key of keys) reservations.push(admitted(await limits.admit(request([key], 100, 1_000))));
      let settledCount = 0;
      const settled = reservations.map((reservation) => limits.settle(reservation, 40, 700).then(() => (settledCount += 1)));
      await sleep(50);
      assert.equal(settledCount, 0, 'nothing is sent while no admission comes (the delay is long)');
      const before = scripts.length;
      // The parallel slots are taken until the settlements are applied: the next admission frees them first.
      admitted(await limits.admit(request([keys[0]!], 100, 1_000)));
      await Promise.all(settled);
      assert.equal(settledCount, 3);
      await waitFor(() => scripts.length >= before + 2);
      const [batch, admission] = scripts.slice(before, before + 2) as [string[], string[]];
      for (const reservation of reservations) assert.ok(batch.includes(reservation.id), 'one call carries every settlement');
      assert.ok(admission.some((arg) => arg === keys[0]!.id), 'and the admission follows it');
      assert.equal(await limits.spend(keys[0]!), 700 + 1_000);
      assert.equal(await limits.spend(keys[2]!), 700);
    } finally {
      monitor.disconnect();
    }
  });

  test('settlements no admission takes along are sent after settleDelayMs, or at once when a batch is full', async () => {
    const key = scopeWith({ budgetNanos: 1_000_000 });
    const reader = backend();
    const delayed = backend({ settleDelayMs: 20 });
    await delayed.settle(admitted(await delayed.admit(request([key], 100, 1_000))), 1, 300);
    assert.equal(await reader.spend(key), 300);

    const batched = backend({ settleDelayMs: 60_000, settleBatchMax: 3 });
    const reservations = [];
    for (let i = 0; i < 3; i++) reservations.push(admitted(await batched.admit(request([key], 100, 1_000))));
    await Promise.all(reservations.map((reservation) => batched.settle(reservation, 1, 100)));
    assert.equal(await reader.spend(key), 600);
  });

  test('close sends the admissions still waiting for the end of the turn, and they are answered', async () => {
    const key = scopeWith({ rpm: 10 });
    const closing = new RedisLimitBackend({ url: REDIS_URL, keyPrefix: PREFIX });
    // Past the first connection, so that the admissions below are queued in this turn.
    admitted(await closing.admit(request([key])));
    const pending = [closing.admit(request([key])), closing.admit(request([key]))];
    // The admissions reach the batch after a microtask each (admit is async); close comes after them.
    await new Promise((resolve) => process.nextTick(resolve));
    const closed = closing.close();
    for (const admission of await Promise.all(pending)) admitted(admission);
    await closed;
    assert.equal((await backend().admit(request([key]))).status.remainingRequests, 6);
  });

  test('close sends the settlements still waiting', async () => {
    const key = scopeWith({ budgetNanos: 1_000_000, maxParallel: 1 });
    const closing = new RedisLimitBackend({ url: REDIS_URL, keyPrefix: PREFIX, settleDelayMs: 60_000 });
    const reservation = admitted(await closing.admit(request([key], 100, 1_000)));
    const settled = closing.settle(reservation, 1, 250);
    await closing.close();
    await settled;
    const other = backend();
    assert.equal(await other.spend(key), 250);
    admitted(await other.admit(request([key], 100, 1_000)));
  });

  test('createLimitBackend: Redis when a URL is configured, memory otherwise', async () => {
    const memory = createLimitBackend({ redisUrl: null });
    assert.ok(memory instanceof MemoryLimitBackend);
    await memory.close();
    const shared = createLimitBackend({ redisUrl: REDIS_URL, keyPrefix: PREFIX, onUnavailable: 'fail-open' });
    assert.ok(shared instanceof RedisLimitBackend);
    const key = scopeWith({ rpm: 1 });
    assert.equal(admitted(await shared.admit(request([key]))).charged['@backend'], 'redis');
    await shared.close();
  });
});
