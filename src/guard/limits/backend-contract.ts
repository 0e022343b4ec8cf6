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

    test('the window slides: a refused request fits after exactly retryAfterMs', { skip: needsClock }, async () => {
      const backend = await harness.create();
      await harness.windowRoom(WINDOW_MS);
      const key = scopeWith({ rpm: 2 });
      admitted(await backend.admit(request([key])));
      clock?.(30_000);
      admitted(await backend.admit(request([key])));
      clock?.(40_000);
      // 10 s into the next window the previous window's 2 requests weigh 2 × 5/6; one more fits
      // once they weigh 1, 30 s into the window.
      const refusal = refused(await backend.admit(request([key])), 'rpm', key);
      assert.equal(refusal.retryAfterMs, 20_000);
      clock?.(refusal.retryAfterMs - 1);
      refused(await backend.admit(request([key])), 'rpm', key);
      clock?.(1);
      admitted(await backend.admit(request([key])));
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
