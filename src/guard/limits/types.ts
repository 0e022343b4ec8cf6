import type { BudgetPeriod } from '../types.js';

/** One thing whose limits are checked: a key or a team. */
export interface LimitScope {
  /** Stable id, e.g. `key:<id>` or `team:<id>`. */
  readonly id: string;
  readonly rpm: number | null;
  readonly tpm: number | null;
  readonly maxParallel: number | null;
  /** Budget per period in nano-USD; null: none. */
  readonly budgetNanos: number | null;
  readonly budgetPeriod: BudgetPeriod;
}

export interface AdmissionRequest {
  /** All scopes must admit, or none is charged (the key and its team). */
  readonly scopes: readonly LimitScope[];
  /** Tokens reserved for tpm: the prompt estimate plus the request's max output. */
  readonly tokens: number;
  /** Worst-case cost reserved against budgets, nano-USD. */
  readonly costNanos: number;
}

export type Refusal = 'rpm' | 'tpm' | 'parallel' | 'budget';

/** The numbers behind OpenAI-style x-ratelimit-* headers, for the tightest scope. */
export interface RateStatus {
  readonly limitRequests: number | null;
  readonly remainingRequests: number | null;
  readonly limitTokens: number | null;
  readonly remainingTokens: number | null;
  /** Milliseconds until the request and token windows have room again. */
  readonly resetRequestsMs: number;
  readonly resetTokensMs: number;
}

export type Admission =
  | { readonly ok: true; readonly reservation: Reservation; readonly status: RateStatus }
  | { readonly ok: false; readonly refusal: Refusal; readonly scope: string; readonly retryAfterMs: number; readonly status: RateStatus }
  | LimitsUnavailable;

/**
 * The shared limit store could not be asked (Redis unreachable, `onUnavailable: 'fail-closed'`):
 * nothing was checked or charged, and the gateway answers 503 rather than 429.
 */
export interface LimitsUnavailable {
  readonly ok: false;
  readonly refusal: 'unavailable';
  /** The first of the request's scopes that has a limit, none of which could be checked. */
  readonly scope: string;
  readonly retryAfterMs: number;
  /** Why, for the log (never shown to clients: it may name hosts). */
  readonly reason: string;
  /** All numbers unknown (null, resets 0). */
  readonly status: RateStatus;
}

/**
 * Where a reservation lives, under `RESERVATION_BACKEND` in `Reservation.charged`: a fail-open
 * Redis backend settles reservations its local fallback made there.
 */
export const RESERVATION_BACKEND = '@backend';

/**
 * How a backend reports trouble (Redis unreachable or back, a settlement lost). Message first, so
 * `(message) => logger.error(message)` works; `(message, { level, ...fields }) =>
 * logger[level](fields, message)` keeps the level (recovery is `warn`).
 */
export type LimitLog = (message: string, fields: LimitLogFields) => void;

export interface LimitLogFields {
  readonly level: 'error' | 'warn' | 'info';
  readonly [field: string]: unknown;
}

/** What was reserved, to be settled exactly once. */
export interface Reservation {
  readonly id: string;
  readonly scopes: readonly LimitScope[];
  readonly tokens: number;
  readonly costNanos: number;
  /**
   * The windows and periods the reservation was charged to, so settlement adjusts the same ones:
   * `tpm:<scope>` → window index, `budget:<scope>` → period id (e.g. `2026-11`), `parallel:<scope>`
   * → `1`, and `@backend` → `memory` | `redis`. `rpm:<scope>` → the admission's time in epoch ms
   * (Redis's clock on Redis), its entry in the scope's request log; settlement leaves rpm alone.
   */
  readonly charged: Readonly<Record<string, string>>;
}

/**
 * Rate limits, parallelism and budgets: reserve before the upstream call (estimate → reserve),
 * settle with the real usage after. In memory for one instance; in Redis with atomic Lua scripts
 * and Redis's clock when replicas share limits.
 */
export interface LimitBackend {
  /**
   * The answer at once where the backend knows it without waiting (in memory: a request under
   * limits waits for no microtask), or its promise (Redis). Invalid requests throw or reject.
   */
  admit(request: AdmissionRequest): Admission | Promise<Admission>;
  /** Replaces the reserved tokens and cost with the actual ones and frees the parallel slot. */
  settle(reservation: Reservation, actualTokens: number, actualCostNanos: number): Promise<void>;
  /** Current spend of a scope in its current budget period, nano-USD. */
  spend(scope: LimitScope): Promise<number>;
  /** Sets the spend of a scope's current period if not known yet (seeding from the store at start). */
  seedSpend(scope: LimitScope, nanos: number): Promise<void>;
  /** What the backend has done since it started, for /metrics. */
  counts(): LimitCounts;
  close(): Promise<void>;
}

/** Running totals of a backend, read when /metrics is scraped (nothing is counted per request but integers). */
export interface LimitCounts {
  /** Admissions decided, by where: in this process's memory, in Redis, or from a leased block. */
  readonly admissions: Readonly<Record<AdmissionPath, number>>;
  /** Lease script calls (grants, returns and corrections together). */
  readonly leaseCalls: number;
  /** Blocks granted, and asked for but refused (too little room left). */
  readonly blocksGranted: number;
  readonly blocksRefused: number;
}

export type AdmissionPath = 'memory' | 'redis' | 'lease';
