import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitted, refused, request, runLimitBackendContract, scopeWith, WINDOW_MS } from './backend-contract.js';
import { MemoryLimitBackend } from './memory-backend.js';
import { RESERVATION_BACKEND } from './types.js';

const START = Date.UTC(2026, 10, 26, 12, 0, 0); // a Thursday, at a minute's start
let now = START;

runLimitBackendContract({
  name: 'memory',
  create: async (options = {}) => new MemoryLimitBackend({ ...options, now: () => now }),
  windowRoom: async (ms) => {
    const left = WINDOW_MS - (now % WINDOW_MS);
    if (left < ms) now += left;
  },
  advance: (ms) => {
    now += ms;
  },
  close: async () => {},
});

function clockAt(start: number): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

test('memory: a full rpm log frees room a window after its oldest admission, one by one', async () => {
  const clock = clockAt(START);
  const backend = new MemoryLimitBackend({ now: clock.now });
  const key = scopeWith({ rpm: 3 });
  for (let i = 0; i < 3; i++) {
    admitted(await backend.admit(request([key])));
    clock.advance(1_000);
  }
  const refusal = refused(await backend.admit(request([key])), 'rpm', key);
  assert.equal(refusal.retryAfterMs, WINDOW_MS - 3_000);
  clock.advance(refusal.retryAfterMs);
  admitted(await backend.admit(request([key])));
  assert.equal(refused(await backend.admit(request([key])), 'rpm', key).retryAfterMs, 1_000, 'the second leaves a second later');
});

test('memory: the rpm log stays bounded by the limit over many windows', async () => {
  const clock = clockAt(START);
  const backend = new MemoryLimitBackend({ now: clock.now });
  const key = scopeWith({ rpm: 100 });
  let admissions = 0;
  for (let i = 0; i < 20_000; i++) {
    if ((await backend.admit(request([key]))).ok) admissions += 1;
    clock.advance(97);
  }
  // 20,000 × 97 ms ≈ 32.3 windows of 100 each.
  assert.ok(admissions >= 3_200 && admissions <= 3_300, String(admissions));
  const log = (backend as unknown as { scopes: Map<string, { rpm: { times: number[] } }> }).scopes.get(key.id)!.rpm;
  assert.ok(log.times.length <= 2 * 100 + 64, `the log holds ${log.times.length} times`);
});

test('memory: budget refusals wait until the next UTC period starts, or a day for total', async () => {
  const clock = clockAt(START);
  const backend = new MemoryLimitBackend({ now: clock.now });
  const expected = {
    day: Date.UTC(2026, 10, 27) - START,
    week: Date.UTC(2026, 10, 30) - START,
    month: Date.UTC(2026, 11, 1) - START,
    total: 86_400_000,
  } as const;
  for (const [period, waitMs] of Object.entries(expected)) {
    const key = scopeWith({ budgetNanos: 10, budgetPeriod: period as keyof typeof expected });
    assert.equal(refused(await backend.admit(request([key], 1, 11)), 'budget', key).retryAfterMs, waitMs, period);
  }
});

test('memory: reservations name their windows, period and backend', async () => {
  const backend = new MemoryLimitBackend({ now: () => START });
  const key = scopeWith({ rpm: 1, tpm: 100, maxParallel: 1, budgetNanos: 100, budgetPeriod: 'week' });
  const reservation = admitted(await backend.admit(request([key], 10.2, 5)));
  const window = String(START / WINDOW_MS);
  assert.deepEqual(reservation.charged, {
    [RESERVATION_BACKEND]: 'memory',
    [`rpm:${key.id}`]: String(START),
    [`tpm:${key.id}`]: window,
    [`parallel:${key.id}`]: '1',
    [`budget:${key.id}`]: '2026-W48',
  });
  assert.equal(reservation.tokens, 11, 'estimated tokens round up');
});

test('memory: money must be whole nano-USD; timings must be positive integers', async () => {
  const backend = new MemoryLimitBackend();
  const key = scopeWith({ budgetNanos: 100 });
  assert.throws(() => backend.admit(request([key], 1, 0.5)), RangeError);
  assert.throws(() => backend.admit(request([key], 1, -1)), RangeError);
  const reservation = admitted(await backend.admit(request([key], 1, 1)));
  await assert.rejects(backend.settle(reservation, 1, 1.5), RangeError);
  assert.throws(() => new MemoryLimitBackend({ windowMs: 0 }), RangeError);
});

test('memory: reservation ids are unique across instances, so one instance never settles another’s', async () => {
  const key = scopeWith({ maxParallel: 1, budgetNanos: 10_000 });
  const first = new MemoryLimitBackend();
  const second = new MemoryLimitBackend();
  const mine = admitted(await first.admit(request([key], 1, 1_000)));
  const theirs = admitted(await second.admit(request([key], 1, 1_000)));
  assert.notEqual(mine.id, theirs.id);
  await first.settle(theirs, 1, 0);
  refused(await first.admit(request([key], 1, 1_000)), 'parallel', key);
  assert.equal(await first.spend(key), 1_000, 'the other instance’s settlement changed nothing here');
  await first.settle(mine, 1, 400);
  assert.equal(await first.spend(key), 400);
});

test('memory: counts every admission it decides, for /metrics', async () => {
  const backend = new MemoryLimitBackend();
  const key = scopeWith({ rpm: 2 });
  admitted(await backend.admit(request([key])));
  admitted(await backend.admit(request([key])));
  refused(await backend.admit(request([key])), 'rpm', key);
  assert.deepEqual(backend.counts(), { admissions: { memory: 3, redis: 0, lease: 0 }, leaseCalls: 0, blocksGranted: 0, blocksRefused: 0 });
});
