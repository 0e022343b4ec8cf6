import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { admitted, refused, request, scopeWith, WINDOW_MS } from './backend-contract.js';
import { DEFAULT_LEASE_SETTINGS, resolveLeaseSettings } from './leases.js';
import { RedisLimitBackend, type RedisLimitBackendOptions } from './redis-backend.js';
import type { Admission, AdmissionRequest, LimitBackend, Reservation } from './types.js';
import { deleteKeysUnder, hangingProxy, redisNow } from './testing/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `stellwerk-test:leases:${randomUUID()}:`;
const admin = new Redis(REDIS_URL);
const open: RedisLimitBackend[] = [];

/** A backend that leases once a scope has seen 4 admissions. */
function replica(options: Partial<RedisLimitBackendOptions> = {}): RedisLimitBackend {
  const created = new RedisLimitBackend({ url: REDIS_URL, keyPrefix: PREFIX, leases: { hotAfter: 4, ttlMs: 5_000 }, ...options });
  open.push(created);
  return created;
}

after(async () => {
  await Promise.all(open.splice(0).map((backend) => backend.close()));
  await deleteKeysUnder(admin, PREFIX);
  await admin.quit();
});

/** Waits for the next window edge when fewer than `ms` remain, so a test's tokens share one window. */
async function windowRoom(ms: number): Promise<number> {
  let now = await redisNow(admin);
  const left = WINDOW_MS - (now % WINDOW_MS);
  if (left < ms) {
    await new Promise((resolve) => setTimeout(resolve, left + 5));
    now = await redisNow(admin);
  }
  return Math.floor(now / WINDOW_MS);
}

/** Admissions in a scope's rpm log: its entries, a leased block weighing as many as it holds. */
async function logged(scopeId: string): Promise<number> {
  return (await admin.zcard(`${PREFIX}rpm:${scopeId}`)) + Number((await admin.get(`${PREFIX}rpmw:${scopeId}`)) ?? 0);
}

const isPromise = (value: unknown): value is Promise<unknown> => value instanceof Promise;

/** Admits until an admission comes back at once (from a block), or fails after `max` tries. */
async function untilLeased(backend: LimitBackend, make: () => AdmissionRequest, max = 200): Promise<Reservation[]> {
  const reservations: Reservation[] = [];
  for (let i = 0; i < max; i++) {
    const answer = backend.admit(make());
    const admission = isPromise(answer) ? await answer : answer;
    reservations.push(admitted(admission));
    if (!isPromise(answer)) return reservations;
    // Let the lease call go out and come back.
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`no admission came from a block after ${max}`);
}

/** Polls Redis until `read` gives `expected` (a return travels in the next lease call). */
async function eventually<T>(read: () => Promise<T>, expected: T, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last: T = await read();
  while (last !== expected) {
    if (Date.now() > deadline) assert.fail(`${what}: ${String(last)}, expected ${String(expected)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    last = await read();
  }
}

/** Runs `count` admissions on each replica at once (each replica's one after the other). */
async function race(replicas: readonly LimitBackend[], count: number, make: () => AdmissionRequest, onAdmitted: (reservation: Reservation, replica: LimitBackend) => Promise<void> | void): Promise<Admission[]> {
  const answers: Admission[] = [];
  await Promise.all(
    replicas.map(async (backend) => {
      for (let i = 0; i < count; i++) {
        const admission = await backend.admit(make());
        answers.push(admission);
        if (admission.ok) await onAdmitted(admission.reservation, backend);
      }
    }),
  );
  return answers;
}

describe('RedisLimitBackend leases', () => {
  test('the lease settings are checked: a block may not outlive the rate window', () => {
    assert.deepEqual(resolveLeaseSettings({}, WINDOW_MS), DEFAULT_LEASE_SETTINGS);
    assert.throws(() => resolveLeaseSettings({ ttlMs: 60_001 }, WINDOW_MS), /must not exceed windowMs/);
    assert.throws(() => resolveLeaseSettings({ maxBlock: 0 }, WINDOW_MS), /maxBlock must be a positive integer/);
  });

  test('a busy scope is admitted from a leased block without waiting for Redis; the block is charged in Redis', async () => {
    // A block with tpm ends with its window: close to the window's end it would be renewed at once.
    await windowRoom(10_000);
    const backend = replica();
    const key = scopeWith({ rpm: 100_000, tpm: 100_000_000, maxParallel: 10_000, budgetNanos: 1_000_000_000_000, budgetPeriod: 'total' });
    const before = await untilLeased(backend, () => request([key], 100, 1_000));
    const answer = backend.admit(request([key], 100, 1_000));
    assert.ok(!isPromise(answer), 'the next admission is answered at once');
    const counts = backend.counts();
    assert.equal(counts.admissions.lease, 2, 'two from the block');
    assert.equal(counts.admissions.redis, before.length - 1, 'the others in Redis');
    assert.equal(counts.blocksGranted, 1);
    assert.ok(counts.leaseCalls >= 1);
    const reservation = admitted(answer);
    assert.equal(reservation.charged['@backend'], 'lease');
    assert.ok(answer.ok && answer.status.limitRequests === 100_000 && answer.status.remainingRequests !== null);
    // What Redis had left beyond the block when it granted it, less the block's use: the admission
    // that asked for the block went to Redis after the lease call, so it is not counted.
    const exact = 100_000 - before.length - 1;
    assert.ok(answer.status.remainingRequests >= exact && answer.status.remainingRequests <= exact + 1, `remaining ${answer.status.remainingRequests}, exact ${exact}`);
    const inLog = await logged(key.id);
    assert.ok(inLog > before.length + 1, `the log holds the block's slots ahead of use (${inLog})`);
    assert.equal(await admin.zcard(`${PREFIX}rpm:${key.id}`), before.length, 'the block is one entry; the others one each');
    // Settling a leased reservation does not wait for Redis, and a second settlement changes nothing.
    await backend.settle(reservation, 50, 400);
    await backend.settle(reservation, 50, 400);
    for (const earlier of before) await backend.settle(earlier, 50, 400);
    await backend.close();
    const admittedCount = before.length + 1;
    assert.equal(await logged(key.id), admittedCount, 'closing gives the unused slots back');
    assert.equal(await admin.zcard(`${PREFIX}parallel:${key.id}`), 0, 'and the pooled parallel slots');
    assert.equal(Number(await admin.get(`${PREFIX}budget:${key.id}:total`)), admittedCount * 400, 'the spend is exactly what was settled');
  });

  test('two replicas never admit more than rpm between them; after they close, the log holds exactly what they admitted', async () => {
    const replicas = [replica(), replica()];
    const key = scopeWith({ rpm: 600 });
    const answers = await race(replicas, 700, () => request([key]), () => {});
    const ok = answers.filter((answer) => answer.ok).length;
    assert.ok(ok <= 600, `admitted ${ok} of rpm 600`);
    assert.ok(ok >= 500, `leases should not strand much of the limit: admitted ${ok}`);
    const refusals = answers.filter((answer) => !answer.ok);
    for (const refusal of refusals) assert.equal(!refusal.ok && refusal.refusal, 'rpm');
    await Promise.all(replicas.map((backend) => backend.close()));
    assert.equal(await logged(key.id), ok);
    // What the blocks left unused is free again, to the request.
    const fresh = replica({ leases: false });
    for (let i = ok; i < 600; i++) admitted(await fresh.admit(request([key])));
    refused(await fresh.admit(request([key])), 'rpm', key);
  });

  test('two replicas keep a budget: every admission fitted its worst case, and the spend is the exact sum of settled costs', async () => {
    const replicas = [replica(), replica()];
    const key = scopeWith({ budgetNanos: 2_000_000, budgetPeriod: 'total' });
    let settledNanos = 0;
    const answers = await race(replicas, 1_500, () => request([key], 10, 1_000), async (reservation, backend) => {
      settledNanos += 700;
      await backend.settle(reservation, 10, 700);
    });
    const ok = answers.filter((answer) => answer.ok).length;
    assert.ok(ok * 700 <= 2_000_000, `spent ${ok * 700} of 2,000,000`);
    assert.ok(answers.some((answer) => !answer.ok && answer.refusal === 'budget'), 'the budget ran out');
    await Promise.all(replicas.map((backend) => backend.close()));
    assert.equal(Number(await admin.get(`${PREFIX}budget:${key.id}:total`)), settledNanos);
    const reader = replica({ leases: false });
    assert.equal(await reader.spend(key), settledNanos);
  });

  test('two replicas keep tpm; settled tokens, lower and higher than the estimate, end up exactly in the window', async () => {
    const window = await windowRoom(20_000);
    const replicas = [replica(), replica()];
    const key = scopeWith({ tpm: 200_000 });
    let settledTokens = 0;
    let n = 0;
    const answers = await race(replicas, 1_000, () => request([key], 300), async (reservation, backend) => {
      const actual = n++ % 2 === 0 ? 200 : 320;
      settledTokens += actual;
      await backend.settle(reservation, actual, 0);
    });
    assert.ok(answers.some((answer) => !answer.ok && answer.refusal === 'tpm'), 'tpm ran out');
    await Promise.all(replicas.map((backend) => backend.close()));
    assert.equal(Number(await admin.get(`${PREFIX}tpm:${key.id}:${window}`)), settledTokens);
  });

  test('two replicas never hold more than max_parallel requests in flight; settled slots are pooled and all go back on close', async () => {
    const replicas = [replica(), replica()];
    const key = scopeWith({ maxParallel: 40 });
    let inFlight = 0;
    let most = 0;
    let ok = 0;
    await Promise.all(
      replicas.map(async (backend) => {
        // 30 clients per replica, each admitting, holding a while, settling, and again.
        await Promise.all(
          Array.from({ length: 30 }, async () => {
            for (let i = 0; i < 30; i++) {
              const admission = await backend.admit(request([key]));
              if (!admission.ok) {
                assert.equal(admission.refusal, 'parallel');
                await new Promise((resolve) => setImmediate(resolve));
                continue;
              }
              ok++;
              most = Math.max(most, ++inFlight);
              await new Promise((resolve) => setImmediate(resolve));
              inFlight--;
              await backend.settle(admission.reservation, 100, 1_000);
            }
          }),
        );
      }),
    );
    assert.ok(most <= 40, `${most} in flight`);
    assert.ok(ok > 0);
    await Promise.all(replicas.map((backend) => backend.close()));
    assert.equal(await admin.zcard(`${PREFIX}parallel:${key.id}`), 0);
  });

  test('a block ends after its time and gives back what it did not use', async () => {
    const window = await windowRoom(10_000);
    const backend = replica({ leases: { hotAfter: 4, ttlMs: 50 } });
    const key = scopeWith({ rpm: 100_000, tpm: 10_000_000 });
    const reservations = await untilLeased(backend, () => request([key], 100));
    for (const reservation of reservations) await backend.settle(reservation, 100, 0);
    await eventually(() => logged(key.id), reservations.length, 'rpm entries');
    await eventually(async () => Number(await admin.get(`${PREFIX}tpm:${key.id}:${window}`)), reservations.length * 100, 'tokens');
  });

  test('changed limits: a block leased under the old ones goes back before the new ones are checked', async () => {
    const backend = replica();
    const generous = scopeWith({ rpm: 10_000 });
    const reservations = await untilLeased(backend, () => request([generous]));
    const used = reservations.length;
    const strict = { ...generous, rpm: used + 5 };
    for (let i = 0; i < 5; i++) admitted(await backend.admit(request([strict])));
    refused(await backend.admit(request([strict])), 'rpm', strict);
  });

  test('a lowered max_parallel: pooled slots go back, those in use when they are settled', async () => {
    const backend = replica();
    const generous = scopeWith({ maxParallel: 1_000 });
    const held = await untilLeased(backend, () => request([generous]));
    // Hold more pooled slots than the new limit will allow.
    for (let i = 0; i < 8; i++) {
      held.push(admitted(await backend.admit(request([generous]))));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const strict = { ...generous, maxParallel: 2 };
    refused(await backend.admit(request([strict])), 'parallel', strict);
    for (const reservation of held) await backend.settle(reservation, 1, 0);
    const open = [admitted(await backend.admit(request([strict]))), admitted(await backend.admit(request([strict])))];
    refused(await backend.admit(request([strict])), 'parallel', strict);
    for (const reservation of open) await backend.settle(reservation, 1, 0);
  });

  test('a busy team whose keys are each quiet leases nothing (a block would sit unused); once a key is busy too, both lease', async () => {
    const backend = replica();
    const team = { ...scopeWith({ rpm: 100_000 }), id: `team:${randomUUID()}` };
    for (let i = 0; i < 20; i++) admitted(await backend.admit(request([scopeWith({ rpm: 1_000 }), team])));
    assert.equal(backend.counts().leaseCalls, 0);
    assert.equal(await logged(team.id), 20, 'nothing of the team held in a block');
    const key = scopeWith({ rpm: 100_000 });
    await untilLeased(backend, () => request([key, team]));
    assert.ok(backend.counts().blocksGranted >= 2, 'a block for the key and one for the team');
  });

  test('a key with only a budget, on a model without a price, leases too (a block of zero nano-USD)', async () => {
    const backend = replica();
    const key = scopeWith({ budgetNanos: 1_000_000, budgetPeriod: 'total' });
    await untilLeased(backend, () => request([key], 100, 0));
    for (let i = 0; i < 10; i++) assert.ok(!isPromise(backend.admit(request([key], 100, 0))), 'answered from the block');
  });

  test('while Redis hangs, a block already leased goes on admitting; once it is used up, admissions fail closed', async () => {
    const proxy = await hangingProxy(REDIS_URL);
    const backend = replica({ url: proxy.url, commandTimeoutMs: 200 });
    const key = scopeWith({ rpm: 100_000 });
    await untilLeased(backend, () => request([key]));
    proxy.hang();
    let fromBlock = 0;
    let answer = backend.admit(request([key]));
    while (!isPromise(answer)) {
      admitted(answer);
      fromBlock++;
      answer = backend.admit(request([key]));
    }
    assert.ok(fromBlock >= 1, 'the block went on admitting with Redis hung');
    const unavailable = await answer;
    assert.ok(!unavailable.ok && unavailable.refusal === 'unavailable', JSON.stringify(unavailable));
    proxy.resume();
    await backend.close();
    await proxy.close();
  });

  test('with leases off every admission asks Redis', async () => {
    const backend = replica({ leases: false });
    const key = scopeWith({ rpm: 10_000 });
    for (let i = 0; i < 50; i++) assert.ok(isPromise(backend.admit(request([key]))));
  });
});
