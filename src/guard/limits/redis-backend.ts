import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import {
  UNKNOWN_RATE_STATUS,
  assertNanos,
  hasAnyLimit,
  normalizeAdmissionRequest,
  normalizeTokens,
  resolveTimings,
  type LimitTimingOptions,
  type LimitTimings,
} from './admission.js';
import { MemoryLimitBackend } from './memory-backend.js';
import { ADMIT_BATCH_LUA, LEASE_LUA, SEED_SPEND_LUA, SETTLE_LUA, SPEND_LUA, scopeArgs } from './redis-scripts.js';
import { LeaseBook, LeasedReservation, resolveLeaseSettings, type LeaseOptions } from './leases.js';
import { AdmissionBatch } from './redis-admissions.js';
import { RedisOutageReporter } from './redis-outage.js';
import { SettlementBatch } from './redis-settlements.js';
import {
  RESERVATION_BACKEND,
  type Admission,
  type AdmissionRequest,
  type LimitBackend,
  type LimitCounts,
  type LimitLog,
  type LimitScope,
  type RateStatus,
  type Refusal,
  type Reservation,
} from './types.js';

export type OnRedisUnavailable = 'fail-closed' | 'fail-open';

export interface RedisLimitBackendOptions extends LimitTimingOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string;
  /** Prefix of every key the backend writes. Default `stellwerk:limits:`. */
  readonly keyPrefix?: string;
  /**
   * When Redis cannot be asked: `fail-closed` (default) answers admissions with
   * `{ ok: false, refusal: 'unavailable' }` (the gateway's 503); `fail-open` enforces the limits
   * per replica with a MemoryLimitBackend and logs at error level.
   */
  readonly onUnavailable?: OnRedisUnavailable;
  /** A command without an answer after this long fails (a hung Redis or a dead link). Default 1 000. */
  readonly commandTimeoutMs?: number;
  /** How long the first admissions wait for the first connection. Default 2 000. */
  readonly connectTimeoutMs?: number;
  /** retryAfterMs of an `unavailable` answer. Default 1 000. */
  readonly unavailableRetryAfterMs?: number;
  /** Where outages and lost settlements are reported. Default: nowhere (pass one in production). */
  readonly log?: LimitLog;
  /** Further ioredis options (TLS, username…); the offline queue, timeouts and lazyConnect are the backend's. */
  readonly redisOptions?: RedisOptions;
  /** fail-open only: the local backend to fall back to. Default: a MemoryLimitBackend with the same timings. */
  readonly fallback?: LimitBackend;
  /**
   * Settlements wait for the replica's next admission and go to Redis right before it (one
   * script for all of them); when none comes, at most this long. Default 5.
   */
  readonly settleDelayMs?: number;
  /** A batch of this many settlements is sent at once. Default 256. */
  readonly settleBatchMax?: number;
  /**
   * The admissions of one event-loop turn go to Redis as one script call (AdmissionBatch); a
   * batch of this many is sent at once. Redis runs a batch without a break: 64 take about a ms.
   */
  readonly admitBatchMax?: number;
  /**
   * Busy scopes lease blocks of their limits and are admitted in memory (LeaseBook,
   * docs/limits.md#leases); `false`: every admission asks Redis. Default: on, with LeaseOptions' defaults.
   */
  readonly leases?: LeaseOptions | false;
}

/** Thrown by spend() and seedSpend() when Redis cannot be asked and the backend fails closed. */
export class LimitsUnavailableError extends Error {
  readonly code = 'LIMITS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LimitsUnavailableError';
  }
}

interface LimitCommands {
  stellwerkLimitsAdmitBatch(...args: string[]): Promise<string[]>;
  stellwerkLimitsSettleBatch(numberOfKeys: number, ...keysAndArgs: string[]): Promise<number>;
  stellwerkLimitsSpend(...args: string[]): Promise<string | null>;
  stellwerkLimitsSeed(...args: string[]): Promise<'OK' | null>;
  stellwerkLimitsLease(...args: string[]): Promise<string>;
}

interface ScriptStatus {
  readonly limit_requests?: number;
  readonly remaining_requests?: number;
  readonly limit_tokens?: number;
  readonly remaining_tokens?: number;
  readonly reset_requests: number;
  readonly reset_tokens: number;
}

type ScriptAdmission =
  | { readonly ok: true; readonly charged: Record<string, string>; readonly status: ScriptStatus }
  | { readonly ok: false; readonly refusal: Refusal; readonly scope: string; readonly retry: number; readonly status: ScriptStatus };

export const DEFAULT_LIMITS_KEY_PREFIX = 'stellwerk:limits:';

/**
 * Limits shared by replicas: one Lua script per batch of admissions (AdmissionBatch: those of one
 * event-loop turn) and one per batch of settlements (SettlementBatch), each atomic in Redis and
 * timed by Redis's clock. Scripts are loaded with ioredis `defineCommand` (EVALSHA, falling back
 * to EVAL after a Redis restart). The offline
 * queue is off, so while Redis is unreachable a command fails at once instead of waiting in a
 * queue that grows without end; the command timeout covers a connection that is up but does not answer, and a connection that stays
 * silent is replaced.
 */
export class RedisLimitBackend implements LimitBackend {
  private readonly redis: Redis & LimitCommands;
  private readonly prefix: string;
  private readonly timings: LimitTimings;
  private readonly failOpen: boolean;
  private readonly fallback: LimitBackend | null;
  private readonly unavailableRetryAfterMs: number;
  private readonly outage: RedisOutageReporter;
  private readonly log: LimitLog;
  private readonly firstConnection: Promise<void>;
  private readonly commandTimeoutMs: number;
  /** When Redis last answered anything; a connection silent for long is replaced. */
  private lastAnswerAt = Date.now();
  private readonly settlements: SettlementBatch;
  private readonly admissions: AdmissionBatch;
  private readonly leases: LeaseBook | null;
  /** Admissions Redis decided (LimitCounts). */
  private redisAdmissions = 0;

  constructor(options: RedisLimitBackendOptions) {
    this.timings = resolveTimings(options);
    this.prefix = options.keyPrefix ?? DEFAULT_LIMITS_KEY_PREFIX;
    this.failOpen = options.onUnavailable === 'fail-open';
    this.fallback = this.failOpen ? (options.fallback ?? new MemoryLimitBackend(this.timings)) : null;
    this.unavailableRetryAfterMs = options.unavailableRetryAfterMs ?? 1_000;
    this.log = options.log ?? (() => {});
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.outage = new RedisOutageReporter(this.log, this.failOpen ? 'fail-open' : 'fail-closed');
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.redis = new Redis(options.url, {
      ...options.redisOptions,
      enableOfflineQueue: false,
      // A command cut off by a lost connection fails now and is not sent again after the
      // reconnect, when its caller has long been answered (a resent admit would charge a ghost).
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: connectTimeoutMs,
      lazyConnect: false,
      // Admissions and settlements of concurrent requests issued in the same event-loop turn go
      // out in one write (and their answers come back in one read) instead of one each.
      enableAutoPipelining: true,
    }) as Redis & LimitCommands;
    // The batch scripts under names of their own: replicas of an older version keep their single ones.
    this.redis.defineCommand('stellwerkLimitsAdmitBatch', { numberOfKeys: 0, lua: ADMIT_BATCH_LUA });
    this.redis.defineCommand('stellwerkLimitsSettleBatch', { lua: SETTLE_LUA });
    this.redis.defineCommand('stellwerkLimitsSpend', { numberOfKeys: 0, lua: SPEND_LUA });
    this.redis.defineCommand('stellwerkLimitsSeed', { numberOfKeys: 0, lua: SEED_SPEND_LUA });
    this.redis.defineCommand('stellwerkLimitsLease', { numberOfKeys: 0, lua: LEASE_LUA });
    // Without a listener ioredis prints every failed reconnect; the reporter logs outages once, loudly.
    this.redis.on('error', (error: unknown) => this.outage.failed(error, 'connection'));
    this.redis.on('ready', () => {
      this.lastAnswerAt = Date.now();
      this.outage.recovered();
    });
    this.firstConnection = firstConnection(this.redis, connectTimeoutMs);
    this.settlements = new SettlementBatch({
      openKey: `${this.prefix}open`,
      send: (keys, args) => this.answered(this.redis.stellwerkLimitsSettleBatch(keys.length, ...keys, ...args)),
      delayMs: options.settleDelayMs ?? 5,
      maxBatch: options.settleBatchMax ?? 256,
    });
    this.admissions = new AdmissionBatch({
      send: (args) => this.answered(this.redis.stellwerkLimitsAdmitBatch(...args)),
      // Waiting settlements go first, in the same write: the admissions see their effect.
      beforeSend: () => this.settlements.send(),
      maxBatch: options.admitBatchMax ?? 64,
    });
    if (options.leases === false) {
      this.leases = null;
    } else {
      const settings = resolveLeaseSettings(options.leases ?? {}, this.timings.windowMs);
      const fixed = [this.prefix, this.timings.windowMs, this.timings.leaseMs, settings.ttlMs].map(String);
      this.leases = new LeaseBook({
        settings,
        prefix: this.prefix,
        leaseMs: this.timings.leaseMs,
        send: (args) => this.answered(this.redis.stellwerkLimitsLease(...fixed, ...args)),
        onError: (error) => this.outage.failed(error, 'lease'),
      });
    }
  }

  /**
   * Admitted at once from this replica's leased blocks where it has them (no promise), else asked
   * of Redis. Invalid requests reject.
   */
  admit(request: AdmissionRequest): Admission | Promise<Admission> {
    let normalized: AdmissionRequest;
    try {
      normalized = normalizeAdmissionRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Nothing to count: no round trip, and such requests keep flowing while Redis is away.
    if (!normalized.scopes.some(hasAnyLimit)) {
      return { ok: true, reservation: reservationOf(randomUUID(), normalized, { [RESERVATION_BACKEND]: 'redis' }), status: UNKNOWN_RATE_STATUS };
    }
    return this.leases?.tryAdmit(normalized) ?? this.admitInRedis(normalized);
  }

  counts(): LimitCounts {
    const leases = this.leases;
    const fallback = this.fallback?.counts().admissions.memory ?? 0;
    return {
      admissions: { memory: fallback, redis: this.redisAdmissions, lease: leases?.admitted ?? 0 },
      leaseCalls: leases?.calls ?? 0,
      blocksGranted: leases?.blocksGranted ?? 0,
      blocksRefused: leases?.blocksRefused ?? 0,
    };
  }

  private async admitInRedis(normalized: AdmissionRequest): Promise<Admission> {
    const id = randomUUID();
    await this.firstConnection;
    let raw: string;
    try {
      raw = await this.admissions.add(this.admitArgs(normalized, id));
    } catch (error) {
      return this.admitWithoutRedis(normalized, error);
    }
    this.outage.recovered();
    this.redisAdmissions++;
    const answer = JSON.parse(raw) as ScriptAdmission;
    const status = statusOf(answer.status);
    if (!answer.ok) return { ok: false, refusal: answer.refusal, scope: answer.scope, retryAfterMs: answer.retry, status };
    return { ok: true, reservation: reservationOf(id, normalized, answer.charged), status };
  }

  /**
   * Never rejects for Redis trouble: a lost settlement is logged, and the estimate stands.
   * Resolves when Redis has applied it, which may be a few ms later (SettlementBatch).
   */
  settle(reservation: Reservation, actualTokens: number, actualCostNanos: number): Promise<void> {
    if (reservation instanceof LeasedReservation) {
      // Settled in memory, against the blocks: no promise of its own per request.
      try {
        const tokens = normalizeTokens(actualTokens);
        assertNanos('actualCostNanos', actualCostNanos);
        this.leases?.settle(reservation, tokens, actualCostNanos);
      } catch (error) {
        return Promise.reject(error);
      }
      return SETTLED;
    }
    return this.settleInRedis(reservation, actualTokens, actualCostNanos);
  }

  private async settleInRedis(reservation: Reservation, actualTokens: number, actualCostNanos: number): Promise<void> {
    if (reservation.charged[RESERVATION_BACKEND] === 'memory') {
      await this.fallback?.settle(reservation, actualTokens, actualCostNanos);
      return;
    }
    const tokens = normalizeTokens(actualTokens);
    assertNanos('actualCostNanos', actualCostNanos);
    if (Object.keys(reservation.charged).length === 1) return; // admitted without a round trip: nothing charged
    const counters: string[] = [];
    const deltas: string[] = [];
    const parallel: string[] = [];
    for (const { id: scope } of reservation.scopes) {
      const window = reservation.charged[`tpm:${scope}`];
      if (window !== undefined) {
        counters.push(`${this.prefix}tpm:${scope}:${window}`);
        deltas.push(String(tokens - reservation.tokens));
      }
      const period = reservation.charged[`budget:${scope}`];
      if (period !== undefined) {
        counters.push(`${this.prefix}budget:${scope}:${period}`);
        deltas.push(String(actualCostNanos - reservation.costNanos));
      }
      if (reservation.charged[`parallel:${scope}`] !== undefined) parallel.push(`${this.prefix}parallel:${scope}`);
    }
    try {
      await this.settlements.add({ id: reservation.id, counters, deltas, parallel });
      this.outage.recovered();
    } catch (error) {
      this.outage.failed(error, 'settle');
      this.log('limits: a settlement was lost; the reservation keeps its estimate until its window or period ends', {
        level: 'error',
        reservation: reservation.id,
        error: messageOf(error),
      });
    }
  }

  async spend(scope: LimitScope): Promise<number> {
    await this.firstConnection;
    try {
      // This replica's own settlements and returned blocks count in what it reads.
      this.settlements.send();
      this.leases?.flush();
      const spent = await this.answered(this.redis.stellwerkLimitsSpend(this.prefix, scope.id, scope.budgetPeriod));
      this.outage.recovered();
      // Its own block's unused part is charged in Redis but not spent (other replicas' blocks are, until they end).
      return spent === null ? 0 : Math.max(0, Number(spent) - (this.leases?.unusedNanos(scope.id) ?? 0));
    } catch (error) {
      this.outage.failed(error, 'spend');
      if (this.fallback !== null) return this.fallback.spend(scope);
      throw new LimitsUnavailableError(`limits: Redis unavailable (${messageOf(error)})`, { cause: error });
    }
  }

  async seedSpend(scope: LimitScope, nanos: number): Promise<void> {
    assertNanos('nanos', nanos);
    await this.fallback?.seedSpend(scope, nanos);
    await this.firstConnection;
    try {
      await this.answered(
        this.redis.stellwerkLimitsSeed(this.prefix, scope.id, scope.budgetPeriod, String(nanos), String(this.timings.leaseMs)),
      );
      this.outage.recovered();
    } catch (error) {
      this.outage.failed(error, 'seedSpend');
      if (this.fallback === null) throw new LimitsUnavailableError(`limits: Redis unavailable (${messageOf(error)})`, { cause: error });
    }
  }

  async close(): Promise<void> {
    // Blocks are given back, and admissions and settlements still waiting are sent and answered,
    // before the connection goes.
    await this.leases?.close();
    await this.admissions.drain();
    await this.settlements.drain();
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
    await this.fallback?.close();
  }

  private async admitWithoutRedis(request: AdmissionRequest, error: unknown): Promise<Admission> {
    this.outage.failed(error, 'admit');
    if (this.fallback !== null) return this.fallback.admit(request);
    return {
      ok: false,
      refusal: 'unavailable',
      scope: request.scopes.find(hasAnyLimit)?.id ?? '',
      retryAfterMs: this.unavailableRetryAfterMs,
      reason: `Redis unavailable: ${messageOf(error)}`,
      status: UNKNOWN_RATE_STATUS,
    };
  }

  /**
   * The command's answer, or a timeout after commandTimeoutMs. Not ioredis's commandTimeout: its
   * timer runs before the event loop reads sockets, so on a busy replica (a loop turn longer than
   * the timeout) it fails commands whose answers are already waiting. Here the timeout looks once
   * more after pending I/O (setImmediate) before it gives up.
   */
  private answered<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let pending = true;
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (!pending) return;
          pending = false;
          this.replaceSilentConnection();
          reject(new Error(`Redis command timed out after ${this.commandTimeoutMs} ms`));
        });
      }, this.commandTimeoutMs);
      command.then(
        (value) => {
          this.lastAnswerAt = Date.now();
          if (!pending) return;
          pending = false;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (!pending) return;
          pending = false;
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Commands that time out stay in ioredis's queue until their connection closes, and a link that
   * drops packets silently can take many minutes to close. When nothing at all has been answered
   * for twice the timeout, the connection is replaced: its queue is failed and emptied, and until
   * the new one is ready commands fail at once.
   */
  private replaceSilentConnection(): void {
    const silentMs = Date.now() - this.lastAnswerAt;
    if (silentMs < 2 * this.commandTimeoutMs || this.redis.status !== 'ready') return;
    this.log('limits: Redis has stopped answering; reconnecting', { level: 'warn', silent_ms: silentMs });
    this.lastAnswerAt = Date.now();
    this.redis.disconnect(true);
  }

  private admitArgs(request: AdmissionRequest, id: string): string[] {
    const { windowMs, leaseMs, parallelRetryAfterMs, totalBudgetRetryAfterMs } = this.timings;
    const args = [this.prefix, windowMs, leaseMs, id, request.tokens, request.costNanos, parallelRetryAfterMs, totalBudgetRetryAfterMs, request.scopes.length].map(String);
    for (const scope of request.scopes) args.push(...scopeArgs(scope));
    return args;
  }
}

const SETTLED: Promise<void> = Promise.resolve();

/** Resolves on the first `ready`, on the first failure (later calls then fail fast), or after the timeout. */
function firstConnection(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done).off('error', done).off('end', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    redis.once('ready', done).once('error', done).once('end', done);
  });
}

function reservationOf(id: string, request: AdmissionRequest, charged: Record<string, string>): Reservation {
  return { id, scopes: request.scopes, tokens: request.tokens, costNanos: request.costNanos, charged };
}

function statusOf(status: ScriptStatus): RateStatus {
  return {
    limitRequests: status.limit_requests ?? null,
    remainingRequests: status.remaining_requests ?? null,
    limitTokens: status.limit_tokens ?? null,
    remainingTokens: status.remaining_tokens ?? null,
    resetRequestsMs: status.reset_requests,
    resetTokensMs: status.reset_tokens,
  };
}


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
