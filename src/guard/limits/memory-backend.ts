import { randomUUID } from 'node:crypto';
import { assertNanos, normalizeAdmissionRequest, normalizeTokens, resolveTimings, type LimitTimingOptions, type LimitTimings } from './admission.js';
import { budgetPeriodId, nextPeriodStart } from './budget-period.js';
import { RequestLog } from './request-log.js';
import { fitsInWindow, remainingInWindow, waitForRoomMs, windowIndex, type WindowCounts } from './sliding-window.js';
import {
  RESERVATION_BACKEND,
  type Admission,
  type AdmissionRequest,
  type LimitBackend,
  type LimitCounts,
  type LimitScope,
  type RateStatus,
  type Refusal,
  type Reservation,
} from './types.js';

export interface MemoryLimitBackendOptions extends LimitTimingOptions {
  /** Epoch milliseconds. Default `Date.now`; tests inject a clock to roll windows and periods over. */
  readonly now?: () => number;
}

interface Counter {
  index: number;
  current: number;
  previous: number;
}

/** Spend of the current period, and of the one before for settlements that arrive after its end. */
interface Spend {
  readonly period: string;
  nanos: number;
  readonly previousPeriod: string | null;
  previousNanos: number;
}

interface ScopeState {
  /** Admission times in the last window: rpm is exact. */
  readonly rpm: RequestLog;
  /** Two fixed windows weighted by overlap: tpm is settled with actual usage, and approximate at edges. */
  readonly tpm: Counter;
  spend: Spend | null;
  /** Open reservations holding a parallel slot: id → admitted at. */
  readonly parallel: Map<string, number>;
}

/** A scope as admission sees it at one instant. */
interface ScopeView {
  readonly scope: LimitScope;
  readonly state: ScopeState;
  /** Admissions in the last window, before this one. */
  readonly requests: number;
  readonly tokens: WindowCounts;
  /** The current budget period's id, when the scope has a budget. */
  readonly period: string | null;
  readonly spent: number;
}

/**
 * Limits for a single instance. Every method runs synchronously inside its promise, so an
 * admission checks and charges all scopes with nothing interleaved. State per scope lives as
 * long as the process (one entry per key and team, not per request).
 */
export class MemoryLimitBackend implements LimitBackend {
  private readonly timings: LimitTimings;
  private readonly now: () => number;
  private readonly scopes = new Map<string, ScopeState>();
  /** Unsettled reservations in admission order, so expired leases are found from the front. */
  private readonly open = new Map<string, MemoryReservation>();
  /**
   * Reservation ids: this instance's random prefix and a counter. Unique like a UUID per
   * reservation (a reservation of another instance can never settle one of these), without a
   * random UUID per request.
   */
  private readonly idPrefix = `${randomUUID()}:`;
  private idCount = 0;

  constructor(options: MemoryLimitBackendOptions = {}) {
    this.timings = resolveTimings(options);
    this.now = options.now ?? Date.now;
  }

  private admissions = 0;

  admit(request: AdmissionRequest): Admission {
    this.admissions++;
    return this.admitNow(normalizeAdmissionRequest(request));
  }

  counts(): LimitCounts {
    return { admissions: { memory: this.admissions, redis: 0, lease: 0 }, leaseCalls: 0, blocksGranted: 0, blocksRefused: 0 };
  }

  async settle(reservation: Reservation, actualTokens: number, actualCostNanos: number): Promise<void> {
    const tokens = normalizeTokens(actualTokens);
    assertNanos('actualCostNanos', actualCostNanos);
    const now = this.now();
    this.expireLeases(now);
    // The backend's own record of the reservation says where it was charged (in fields: no keys
    // to build and look up per request); one it does not hold open (settled, abandoned, another
    // instance's) changes nothing.
    const own = this.open.get(reservation.id);
    if (own === undefined) return;
    this.open.delete(reservation.id);
    const index = windowIndex(now, this.timings.windowMs);
    const { scopes, periods } = own;
    for (let i = 0; i < scopes.length; i++) {
      const scope = scopes[i]!;
      const state = this.scopes.get(scope.id);
      if (state === undefined) continue;
      if (scope.maxParallel !== null) state.parallel.delete(own.id);
      if (scope.tpm !== null) correctCounter(state.tpm, index, own.windowIndex, tokens - own.tokens);
      const period = periods[i];
      if (period != null) correctSpend(state, period, actualCostNanos - own.costNanos);
    }
  }

  async spend(scope: LimitScope): Promise<number> {
    const spend = this.scopes.get(scope.id)?.spend;
    return spend?.period === budgetPeriodId(scope.budgetPeriod, this.now()) ? spend.nanos : 0;
  }

  async seedSpend(scope: LimitScope, nanos: number): Promise<void> {
    assertNanos('nanos', nanos);
    const period = budgetPeriodId(scope.budgetPeriod, this.now());
    const state = this.stateOf(scope.id);
    if (state.spend?.period === period) return;
    rollSpend(state, period).nanos = nanos;
  }

  async close(): Promise<void> {
    this.scopes.clear();
    this.open.clear();
  }

  private admitNow(request: AdmissionRequest): Admission {
    const now = this.now();
    this.expireLeases(now);
    const { windowMs } = this.timings;
    const index = windowIndex(now, windowMs);
    const elapsed = now - index * windowMs;
    const views = request.scopes.map((scope) => this.view(scope, now, index));

    const refusals: { refusal: Refusal; scope: string; waitMs: number }[] = [];
    for (const { scope, state, requests, tokens, spent } of views) {
      if (scope.rpm !== null && requests + 1 > scope.rpm) {
        refusals.push({ refusal: 'rpm', scope: scope.id, waitMs: state.rpm.waitMs(now, windowMs, scope.rpm) });
      }
      if (scope.tpm !== null && !fitsInWindow(tokens, elapsed, windowMs, scope.tpm, request.tokens)) {
        refusals.push({ refusal: 'tpm', scope: scope.id, waitMs: waitForRoomMs(tokens, elapsed, windowMs, scope.tpm, request.tokens) });
      }
      if (scope.maxParallel !== null && state.parallel.size + 1 > scope.maxParallel) {
        refusals.push({ refusal: 'parallel', scope: scope.id, waitMs: this.timings.parallelRetryAfterMs });
      }
      if (scope.budgetNanos !== null && spent + request.costNanos > scope.budgetNanos) {
        const next = nextPeriodStart(scope.budgetPeriod, now);
        refusals.push({ refusal: 'budget', scope: scope.id, waitMs: next === null ? this.timings.totalBudgetRetryAfterMs : next - now });
      }
    }
    const [first] = refusals;
    if (first !== undefined) {
      // The first refusal names the limit; the wait is the longest, so a retry is not refused by another known one.
      const retryAfterMs = Math.max(...refusals.map((refusal) => refusal.waitMs));
      const status = rateStatus(views, now, windowMs, request.tokens, false);
      return { ok: false, refusal: first.refusal, scope: first.scope, retryAfterMs, status };
    }
    const reservation = this.charge(views, request, index, now);
    return { ok: true, reservation, status: rateStatus(views, now, windowMs, request.tokens, true) };
  }

  private charge(views: readonly ScopeView[], request: AdmissionRequest, index: number, now: number): Reservation {
    const id = this.idPrefix + (++this.idCount).toString(36);
    const periods: (string | null)[] = [];
    for (const { scope, state, period } of views) {
      if (scope.rpm !== null) state.rpm.append(now);
      if (scope.tpm !== null) state.tpm.current += request.tokens;
      if (scope.maxParallel !== null) state.parallel.set(id, now);
      if (period !== null) rollSpend(state, period).nanos += request.costNanos;
      periods.push(period);
    }
    const reservation = new MemoryReservation(id, request.scopes, request.tokens, request.costNanos, now, index, periods);
    this.open.set(id, reservation);
    return reservation;
  }

  private view(scope: LimitScope, now: number, index: number): ScopeView {
    const state = this.stateOf(scope.id);
    rollCounter(state.tpm, index);
    const period = scope.budgetNanos === null ? null : budgetPeriodId(scope.budgetPeriod, now);
    return {
      scope,
      state,
      requests: scope.rpm === null ? 0 : state.rpm.count(now, this.timings.windowMs),
      tokens: { current: state.tpm.current, previous: state.tpm.previous },
      period,
      spent: period !== null && state.spend?.period === period ? state.spend.nanos : 0,
    };
  }

  private stateOf(scopeId: string): ScopeState {
    let state = this.scopes.get(scopeId);
    if (state === undefined) {
      state = { rpm: new RequestLog(), tpm: newCounter(), spend: null, parallel: new Map() };
      this.scopes.set(scopeId, state);
    }
    return state;
  }

  /** Abandons reservations older than the lease: their parallel slots free, their charges stand. */
  private expireLeases(now: number): void {
    const stale = now - this.timings.leaseMs;
    for (const [id, reservation] of this.open) {
      if (reservation.admittedAt > stale) break;
      this.open.delete(id);
      for (const scope of reservation.scopes) this.scopes.get(scope.id)?.parallel.delete(id);
    }
  }
}

/**
 * This backend's reservation. Where it charged is kept in fields, which settle reads; the
 * `charged` record of the Reservation interface (its keys are built from scope ids) is built only
 * when someone asks for it.
 */
class MemoryReservation implements Reservation {
  #charged: Readonly<Record<string, string>> | null = null;

  constructor(
    readonly id: string,
    readonly scopes: readonly LimitScope[],
    readonly tokens: number,
    readonly costNanos: number,
    readonly admittedAt: number,
    /** The tpm window charged. */
    readonly windowIndex: number,
    /** Per scope, in the order of `scopes`: the budget period charged, or null. */
    readonly periods: readonly (string | null)[],
  ) {}

  get charged(): Readonly<Record<string, string>> {
    if (this.#charged !== null) return this.#charged;
    const charged: Record<string, string> = { [RESERVATION_BACKEND]: 'memory' };
    this.scopes.forEach((scope, i) => {
      if (scope.rpm !== null) charged[`rpm:${scope.id}`] = String(this.admittedAt);
      if (scope.tpm !== null) charged[`tpm:${scope.id}`] = String(this.windowIndex);
      if (scope.maxParallel !== null) charged[`parallel:${scope.id}`] = '1';
      const period = this.periods[i];
      if (period != null) charged[`budget:${scope.id}`] = period;
    });
    this.#charged = charged;
    return charged;
  }
}

function newCounter(): Counter {
  return { index: 0, current: 0, previous: 0 };
}

function rollCounter(counter: Counter, index: number): void {
  if (index <= counter.index) return;
  counter.previous = counter.index === index - 1 ? counter.current : 0;
  counter.current = 0;
  counter.index = index;
}

/** Applies a settlement to the window it was charged to; one that has slid out entirely no longer matters. */
function correctCounter(counter: Counter, nowIndex: number, chargedIndex: number, delta: number): void {
  rollCounter(counter, nowIndex);
  if (chargedIndex === counter.index) counter.current = Math.max(0, counter.current + delta);
  else if (chargedIndex === counter.index - 1) counter.previous = Math.max(0, counter.previous + delta);
}

function rollSpend(state: ScopeState, period: string): Spend {
  if (state.spend === null) {
    state.spend = { period, nanos: 0, previousPeriod: null, previousNanos: 0 };
  } else if (state.spend.period !== period) {
    state.spend = { period, nanos: 0, previousPeriod: state.spend.period, previousNanos: state.spend.nanos };
  }
  return state.spend;
}

function correctSpend(state: ScopeState, period: string, delta: number): void {
  const spend = state.spend;
  if (spend === null) return;
  if (spend.period === period) spend.nanos += delta;
  else if (spend.previousPeriod === period) spend.previousNanos += delta;
}

/** The x-ratelimit-* numbers: the tightest scope's limit and remainder, the longest wait of all. */
function rateStatus(views: readonly ScopeView[], now: number, windowMs: number, tokens: number, charged: boolean): RateStatus {
  const elapsed = now - windowIndex(now, windowMs) * windowMs;
  let limitRequests: number | null = null;
  let remainingRequests: number | null = null;
  let limitTokens: number | null = null;
  let remainingTokens: number | null = null;
  let resetRequestsMs = 0;
  let resetTokensMs = 0;
  for (const view of views) {
    const { rpm, tpm } = view.scope;
    if (rpm !== null) {
      // After a charge the log already holds this admission.
      const remaining = Math.max(0, rpm - view.requests - (charged ? 1 : 0));
      if (remainingRequests === null || remaining < remainingRequests) [limitRequests, remainingRequests] = [rpm, remaining];
      resetRequestsMs = Math.max(resetRequestsMs, view.state.rpm.waitMs(now, windowMs, rpm));
    }
    if (tpm !== null) {
      const counts = charged ? { current: view.tokens.current + tokens, previous: view.tokens.previous } : view.tokens;
      const remaining = remainingInWindow(counts, elapsed, windowMs, tpm);
      if (remainingTokens === null || remaining < remainingTokens) [limitTokens, remainingTokens] = [tpm, remaining];
      resetTokensMs = Math.max(resetTokensMs, waitForRoomMs(counts, elapsed, windowMs, tpm, Math.max(1, tokens)));
    }
  }
  return { limitRequests, remainingRequests, limitTokens, remainingTokens, resetRequestsMs, resetTokensMs };
}
