import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Admission, AdmissionRequest, LimitBackend, LimitScope, Refusal, Reservation } from './types.js';

/**
 * The semantics every LimitBackend keeps, run by memory-backend.test.ts and redis-backend.test.ts.
 * Tests that move time need `advance` (an injected clock); a backend on a real clock skips them
 * and covers window roll-over in its own tests.
 */
export interface LimitBackendHarness {
  readonly name: string;
  /** A new backend on the harness's clock and storage; the harness closes it in `close`. */
  create(options?: { readonly leaseMs?: number }): Promise<LimitBackend>;
  /** Resolves once at least `ms` remain in the current rate window, so a test's counts are not split by an edge. */
  windowRoom(ms: number): Promise<void>;
  /** Moves the clock forward; absent on a real clock. */
  readonly advance?: (ms: number) => void;
  close(): Promise<void>;
}

export const WINDOW_MS = 60_000;
const DAY_MS = 86_400_000;

/** A key scope with fresh id and no limits but the given ones. */
export function scopeWith(limits: Partial<LimitScope>): LimitScope {
  return { id: `key:${randomUUID()}`, rpm: null, tpm: null, maxParallel: null, budgetNanos: null, budgetPeriod: 'month', ...limits };
}

export function request(scopes: readonly LimitScope[], tokens = 100, costNanos = 1_000): AdmissionRequest {
  return { scopes, tokens, costNanos };
}

export function admitted(admission: Admission): Reservation {
  assert.ok(admission.ok, `expected an admission, got ${JSON.stringify(admission)}`);
  return admission.reservation;
}

export function refused(admission: Admission, refusal: Refusal, scope: LimitScope): Extract<Admission, { scope: string }> {
  assert.ok(!admission.ok && admission.refusal !== 'unavailable', `expected a refusal, got ${JSON.stringify(admission)}`);
  assert.equal(admission.refusal, refusal);
  assert.equal(admission.scope, scope.id);
  assert.ok(admission.retryAfterMs > 0, 'a refusal says when to retry');
  return admission;
}

/**
 * The most admissions any `windowMs` (a half-open interval [a, a + windowMs)) holds, given the
 * times of the admissions. The busiest such interval starts at an admission, so those are the
 * only starts to try.
 */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

export function runLimitBackendContract(harness: LimitBackendHarness): void {
  const clock = harness.advance;
  const needsClock = clock === undefined ? `${harness.name} runs on a real clock; its own tests cover roll-over` : false;

  describe(`LimitBackend contract: ${harness.name}`, () => {
    after(() => harness.close());

    test('rpm admits exactly up to the limit within a window and refuses after', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ rpm: 5 });
      for (let i = 1; i <= 5; i++) {
        const admission = await backend.admit(request([key]));
        admitted(admission);
        assert.equal(admission.status.limitRequests, 5);
        assert.equal(admission.status.remainingRequests, 5 - i);
      }
      const refusal = refused(await backend.admit(request([key])), 'rpm', key);
      assert.ok(refusal.retryAfterMs <= 2 * WINDOW_MS);
      assert.equal(refusal.status.remainingRequests, 0);
      assert.equal(refusal.status.resetRequestsMs, refusal.retryAfterMs);
    });

    test('tpm admits up to the limit; a request larger than the whole limit is refused', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ tpm: 1_000 });
      for (let i = 0; i < 3; i++) admitted(await backend.admit(request([key], 300)));
      refused(await backend.admit(request([key], 300)), 'tpm', key);
      const last = await backend.admit(request([key], 100));
      admitted(last);
      assert.deepEqual([last.status.limitTokens, last.status.remainingTokens], [1_000, 0]);
      refused(await backend.admit(request([key], 1)), 'tpm', key);
      const small = scopeWith({ tpm: 1_000 });
      refused(await backend.admit(request([small], 1_001)), 'tpm', small);
      admitted(await backend.admit(request([small], 1_000)));
    });

    test('settle corrects tpm to the actual tokens, lower and higher than the estimate', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ tpm: 1_000 });
      const first = admitted(await backend.admit(request([key], 800)));
      refused(await backend.admit(request([key], 700)), 'tpm', key);
      await backend.settle(first, 300, 0);
      const second = admitted(await backend.admit(request([key], 700)));
      await backend.settle(second, 900, 0);
      const after = refused(await backend.admit(request([key], 1)), 'tpm', key);
      assert.equal(after.status.remainingTokens, 0, '300 + 900 used of 1000');
    });

    test('settle corrects the budget; the spend is the sum of settled costs', async () => {
      const backend = await harness.create();
      const key = scopeWith({ budgetNanos: 1_000 });
      const first = admitted(await backend.admit(request([key], 1, 400)));
      assert.equal(await backend.spend(key), 400);
      await backend.settle(first, 1, 100);
      assert.equal(await backend.spend(key), 100);
      const second = admitted(await backend.admit(request([key], 1, 400)));
      await backend.settle(second, 1, 650);
      assert.equal(await backend.spend(key), 750);
      refused(await backend.admit(request([key], 1, 300)), 'budget', key);
      admitted(await backend.admit(request([key], 1, 250)));
      assert.equal(await backend.spend(key), 1_000);
    });

    test('a budget refuses once the worst case would pass it; the final spend is exact', async () => {
      const backend = await harness.create();
      const key = scopeWith({ budgetNanos: 10_000 });
      const open = [];
      for (let i = 0; i < 3; i++) open.push(admitted(await backend.admit(request([key], 1, 3_000))));
      const refusal = refused(await backend.admit(request([key], 1, 3_000)), 'budget', key);
      assert.ok(refusal.retryAfterMs <= 31 * DAY_MS, 'until the next month');
      for (const reservation of open) await backend.settle(reservation, 1, 2_000);
      assert.equal(await backend.spend(key), 6_000);
      const last = admitted(await backend.admit(request([key], 1, 3_000)));
      refused(await backend.admit(request([key], 1, 3_000)), 'budget', key);
      await backend.settle(last, 1, 2_500);
      assert.equal(await backend.spend(key), 3 * 2_000 + 2_500);
    });

    test('max_parallel counts open reservations; settling frees the slot', async () => {
      const backend = await harness.create();
      const key = scopeWith({ maxParallel: 2 });
      const first = admitted(await backend.admit(request([key])));
      admitted(await backend.admit(request([key])));
      const refusal = refused(await backend.admit(request([key])), 'parallel', key);
      assert.equal(refusal.retryAfterMs, 1_000);
      await backend.settle(first, 100, 1_000);
      admitted(await backend.admit(request([key])));
      refused(await backend.admit(request([key])), 'parallel', key);
    });

    test('settling twice is a no-op', async () => {
      const backend = await harness.create();
      const key = scopeWith({ maxParallel: 2, budgetNanos: 10_000, tpm: 10_000 });
      const first = admitted(await backend.admit(request([key], 500, 5_000)));
      admitted(await backend.admit(request([key], 100, 1_000)));
      await backend.settle(first, 100, 1_000);
      await backend.settle(first, 100, 1_000);
      assert.equal(await backend.spend(key), 2_000);
      admitted(await backend.admit(request([key], 100, 1_000)));
      refused(await backend.admit(request([key], 100, 1_000)), 'parallel', key);
    });

    test('key and team are all or nothing: a refusal by the team charges nothing to the key', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ rpm: 10, tpm: 1_000, maxParallel: 5, budgetNanos: 100_000 });
      const team = scopeWith({ id: `team:${randomUUID()}`, rpm: 1 });
      admitted(await backend.admit(request([key, team], 100, 1_000)));
      refused(await backend.admit(request([key, team], 100, 1_000)), 'rpm', team);
      const keyOnly = await backend.admit(request([key], 100, 1_000));
      admitted(keyOnly);
      assert.equal(keyOnly.status.remainingRequests, 8, 'two requests charged to the key, not three');
      assert.equal(keyOnly.status.remainingTokens, 800);
      assert.equal(await backend.spend(key), 2_000);
      const poorTeam = scopeWith({ id: `team:${randomUUID()}`, budgetNanos: 500 });
      refused(await backend.admit(request([key, poorTeam], 100, 1_000)), 'budget', poorTeam);
      assert.equal(await backend.spend(key), 2_000);
      assert.equal(await backend.spend(poorTeam), 0);
      for (let i = 0; i < 3; i++) admitted(await backend.admit(request([key])));
      refused(await backend.admit(request([key])), 'parallel', key);
    });

    test('a refusal names the first failing limit and waits for the longest', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ maxParallel: 1, budgetNanos: 1_000, budgetPeriod: 'day' });
      admitted(await backend.admit(request([key], 1, 1_000)));
      const refusal = refused(await backend.admit(request([key], 1, 1)), 'parallel', key);
      assert.ok(refusal.retryAfterMs > 1_000, 'the budget waits until tomorrow, longer than the parallel hint');
    });

    test('the status shows the tightest scope', async () => {
      const backend = await harness.create();
      await harness.windowRoom(5_000);
      const key = scopeWith({ rpm: 10, tpm: 500 });
      const team = scopeWith({ id: `team:${randomUUID()}`, rpm: 3, tpm: 1_000 });
      const admission = await backend.admit(request([key, team], 100));
      admitted(admission);
      assert.deepEqual(
        [admission.status.limitRequests, admission.status.remainingRequests, admission.status.limitTokens, admission.status.remainingTokens],
        [3, 2, 500, 400],
      );
      assert.equal(admission.status.resetRequestsMs, 0);
      assert.equal(admission.status.resetTokensMs, 0);
    });

    test("seedSpend sets the current period's spend only while it is unknown", async () => {
      const backend = await harness.create();
      const key = scopeWith({ budgetNanos: 1_000_000 });
      await backend.seedSpend(key, 500);
      await backend.seedSpend(key, 700);
      assert.equal(await backend.spend(key), 500);
      const reservation = admitted(await backend.admit(request([key], 1, 300)));
      await backend.settle(reservation, 1, 100);
      assert.equal(await backend.spend(key), 600);
      const fresh = scopeWith({ budgetNanos: 1_000_000 });
      admitted(await backend.admit(request([fresh], 1, 100)));
      await backend.seedSpend(fresh, 999);
      assert.equal(await backend.spend(fresh), 100, 'counting had begun, so the seed is too late');
    });

    test('a request without limits is admitted and settles without effect', async () => {
      const backend = await harness.create();
      const key = scopeWith({});
      const admission = await backend.admit(request([key]));
      const reservation = admitted(admission);
      assert.equal(admission.status.limitRequests, null);
      assert.equal(admission.status.remainingTokens, null);
      await backend.settle(reservation, 10, 10);
      assert.equal(await backend.spend(key), 0);
    });

    test('rpm slides: a refused request fits after exactly retryAfterMs, when the oldest admission has left', { skip: needsClock }, async () => {
      const backend = await harness.create();
      await harness.windowRoom(WINDOW_MS);
      const key = scopeWith({ rpm: 2 });
      admitted(await backend.admit(request([key])));
      clock?.(30_000);
      admitted(await backend.admit(request([key])));
      clock?.(10_000);
      const refusal = refused(await backend.admit(request([key])), 'rpm', key);
      assert.equal(refusal.retryAfterMs, 20_000, 'the first admission, 40 s ago, leaves the minute in 20 s');
      assert.equal(refusal.status.resetRequestsMs, 20_000);
      clock?.(refusal.retryAfterMs - 1);
      refused(await backend.admit(request([key])), 'rpm', key);
      clock?.(1);
      const third = await backend.admit(request([key]));
      admitted(third);
      assert.equal(third.status.remainingRequests, 0);
      assert.equal(third.status.resetRequestsMs, 30_000, 'the second admission, 30 s ago, leaves in 30 s');
    });

    test('rpm is exact across a window edge: no 60 s ever holds more than rpm admissions', { skip: needsClock }, async () => {
      const backend = await harness.create();
      await harness.windowRoom(WINDOW_MS);
      const key = scopeWith({ rpm: 10 });
      const times: number[] = [];
      let at = 0;
      const step = (ms: number): void => {
        clock?.(ms);
        at += ms;
      };
      const admitNow = async (): Promise<boolean> => {
        const admission = await backend.admit(request([key]));
        if (admission.ok) times.push(at);
        return admission.ok;
      };

      step(59_900); // 100 ms before a fixed minute's edge
      for (let i = 0; i < 10; i++) assert.ok(await admitNow(), `admission ${i + 1} of 10`);
      step(200); // 100 ms after the edge: a fixed or weighted window would have room again
      const refusal = refused(await backend.admit(request([key])), 'rpm', key);
      assert.equal(refusal.retryAfterMs, 59_800, 'until 119.9 s, when the burst at 59.9 s leaves');
      for (; at < 119_900; step(100)) assert.equal(await admitNow(), false, `nothing fits at ${at} ms`);
      for (let i = 0; i < 10; i++) assert.ok(await admitNow(), `admission ${i + 1} of 10 at 119.9 s`);
      assert.equal(await admitNow(), false);

      // Then a steady stream that crosses more edges: two attempts every 700 ms for three minutes.
      for (let i = 0; i < 260; i++) {
        step(700);
        await admitNow();
        await admitNow();
      }
      assert.equal(busiestWindow(times, WINDOW_MS), 10);
      assert.ok(times.length >= 40, `the stream was admitted as room came (${times.length})`);
    });

    test('a settlement after the window rolled over corrects the window it was charged to', { skip: needsClock }, async () => {
      const backend = await harness.create();
      await harness.windowRoom(WINDOW_MS);
      const key = scopeWith({ tpm: 1_000 });
      const reservation = admitted(await backend.admit(request([key], 1_000)));
      clock?.(WINDOW_MS);
      refused(await backend.admit(request([key], 1)), 'tpm', key);
      await backend.settle(reservation, 400, 0);
      refused(await backend.admit(request([key], 601)), 'tpm', key);
      admitted(await backend.admit(request([key], 600)));
    });

    test('budget periods: spend starts over with the next period, where retryAfterMs points', { skip: needsClock }, async () => {
      const backend = await harness.create();
      const key = scopeWith({ budgetNanos: 1_000, budgetPeriod: 'day' });
      const yesterday = admitted(await backend.admit(request([key], 1, 1_000)));
      const refusal = refused(await backend.admit(request([key], 1, 500)), 'budget', key);
      clock?.(refusal.retryAfterMs - 1);
      refused(await backend.admit(request([key], 1, 500)), 'budget', key);
      clock?.(1);
      admitted(await backend.admit(request([key], 1, 500)));
      await backend.settle(yesterday, 1, 100);
      assert.equal(await backend.spend(key), 500, "yesterday's settlement corrects yesterday");
    });

    test('a reservation not settled within the lease frees its slot; a late settlement changes nothing', { skip: needsClock }, async () => {
      const backend = await harness.create({ leaseMs: 5_000 });
      const key = scopeWith({ maxParallel: 1, budgetNanos: 10_000 });
      const lost = admitted(await backend.admit(request([key], 1, 1_000)));
      refused(await backend.admit(request([key], 1, 1_000)), 'parallel', key);
      clock?.(5_000);
      admitted(await backend.admit(request([key], 1, 1_000)));
      await backend.settle(lost, 1, 0);
      assert.equal(await backend.spend(key), 2_000, 'the abandoned estimate stands');
      refused(await backend.admit(request([key], 1, 1_000)), 'parallel', key);
    });
  });
}
