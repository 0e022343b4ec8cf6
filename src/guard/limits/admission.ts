import type { AdmissionRequest, LimitScope, RateStatus } from './types.js';

/** Timings both backends share; every field has a default. */
export interface LimitTimingOptions {
  /** Length of the rate window; the limits are per window. Default 60 000 (rpm, tpm). */
  readonly windowMs?: number;
  /**
   * A reservation not settled within this long is abandoned (a crashed replica, a lost request):
   * its parallel slot is freed, its estimate stays charged, and a late settle is a no-op. Must be
   * longer than the longest request. Default 600 000 (10 min).
   */
  readonly leaseMs?: number;
  /** retryAfterMs when max_parallel refuses. Default 1 000. */
  readonly parallelRetryAfterMs?: number;
  /** retryAfterMs when a `total` budget refuses (it never renews). Default 86 400 000 (a day). */
  readonly totalBudgetRetryAfterMs?: number;
}

export type LimitTimings = Required<LimitTimingOptions>;

export const DEFAULT_LIMIT_TIMINGS: LimitTimings = {
  windowMs: 60_000,
  leaseMs: 600_000,
  parallelRetryAfterMs: 1_000,
  totalBudgetRetryAfterMs: 86_400_000,
};

export function resolveTimings(options: LimitTimingOptions): LimitTimings {
  const timings = {
    windowMs: options.windowMs ?? DEFAULT_LIMIT_TIMINGS.windowMs,
    leaseMs: options.leaseMs ?? DEFAULT_LIMIT_TIMINGS.leaseMs,
    parallelRetryAfterMs: options.parallelRetryAfterMs ?? DEFAULT_LIMIT_TIMINGS.parallelRetryAfterMs,
    totalBudgetRetryAfterMs: options.totalBudgetRetryAfterMs ?? DEFAULT_LIMIT_TIMINGS.totalBudgetRetryAfterMs,
  };
  for (const [name, value] of Object.entries(timings)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limits: ${name} must be a positive integer, got ${value}`);
  }
  return timings;
}

/** The status when nothing is known: no limits, or the limit store unreachable. */
export const UNKNOWN_RATE_STATUS: RateStatus = {
  limitRequests: null,
  remainingRequests: null,
  limitTokens: null,
  remainingTokens: null,
  resetRequestsMs: 0,
  resetTokensMs: 0,
};

export function hasAnyLimit(scope: LimitScope): boolean {
  return scope.rpm !== null || scope.tpm !== null || scope.maxParallel !== null || scope.budgetNanos !== null;
}

/**
 * Tokens are an estimate and are rounded up to whole tokens; money is exact, so a cost that is
 * not a whole number of nano-USD is a caller's bug and throws.
 */
export function normalizeAdmissionRequest(request: AdmissionRequest): AdmissionRequest {
  assertNanos('costNanos', request.costNanos);
  const tokens = normalizeTokens(request.tokens);
  return tokens === request.tokens ? request : { ...request, tokens };
}

export function normalizeTokens(tokens: number): number {
  if (!Number.isFinite(tokens)) throw new RangeError(`limits: tokens must be finite, got ${tokens}`);
  return Math.max(0, Math.ceil(tokens));
}

export function assertNanos(name: string, nanos: number): void {
  if (!Number.isSafeInteger(nanos) || nanos < 0) throw new RangeError(`limits: ${name} must be a non-negative integer of nano-USD, got ${nanos}`);
}
