import { randomUUID } from 'node:crypto';
import { UNKNOWN_RATE_STATUS, hasAnyLimit } from './admission.js';
import type { Admission, AdmissionRequest, LimitScope, RateStatus, Reservation } from './types.js';
import { RESERVATION_BACKEND } from './types.js';
import { scopeArgs } from './redis-scripts.js';

/**
 * Sends one lease script call (LEASE_LUA in redis-scripts.ts, ARGV after the first four) and
 * resolves with its JSON answer.
 */
export type SendLeases = (args: string[]) => Promise<string>;

export interface LeaseOptions {
  /** How long a block may be used after it was asked for. Default 1 000; at most the rate window. */
  readonly ttlMs?: number;
  /** The most requests one block is for. Default 512. */
  readonly maxBlock?: number;
  /** A scope leases once it has seen this many admissions within a ttl. Default 16. */
  readonly hotAfter?: number;
}

export type LeaseSettings = Required<LeaseOptions>;

export const DEFAULT_LEASE_SETTINGS: LeaseSettings = { ttlMs: 1_000, maxBlock: 512, hotAfter: 16 };

export function resolveLeaseSettings(options: LeaseOptions, windowMs: number): LeaseSettings {
  const settings = {
    ttlMs: options.ttlMs ?? DEFAULT_LEASE_SETTINGS.ttlMs,
    maxBlock: options.maxBlock ?? DEFAULT_LEASE_SETTINGS.maxBlock,
    hotAfter: options.hotAfter ?? DEFAULT_LEASE_SETTINGS.hotAfter,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limits: lease ${name} must be a positive integer, got ${value}`);
  }
  // rpm entries of a block are dated at its end; the log's keys live two windows (LEASE_LUA).
  if (settings.ttlMs > windowMs) throw new RangeError(`limits: lease ttlMs (${settings.ttlMs}) must not exceed windowMs (${windowMs})`);
  return settings;
}

/** What a lease call answers per scope (LEASE_LUA). */
interface Grant {
  readonly ok: boolean;
  readonly req: number;
  readonly tok: number;
  readonly nanos: number;
  readonly par: number;
  readonly win: number;
  readonly win_left: number;
  readonly period?: string;
  readonly period_left: number;
  readonly rr?: number;
  readonly rt?: number;
}

/** One scope's block of rpm slots, tokens and nano-USD, charged in Redis when it was granted. */
class Block {
  requestsUsed = 0;
  tokensUsed = 0;
  nanosUsed = 0;
  released = false;

  constructor(
    readonly leaseId: string,
    readonly limits: LimitScope,
    readonly rpmKey: string | null,
    readonly requests: number,
    readonly tpmKey: string | null,
    readonly tokens: number,
    readonly budgetKey: string | null,
    readonly nanos: number,
    /** performance.now() after which the block is not used. */
    readonly expiresAt: number,
    /** Requests and tokens the scope had left in Redis after the grant (for the status headers). */
    readonly requestsLeftBeyond: number | null,
    readonly tokensLeftBeyond: number | null,
  ) {}

  fits(scope: LimitScope, tokens: number, nanos: number, now: number): boolean {
    return (
      !this.released &&
      now < this.expiresAt &&
      sameLimits(this.limits, scope) &&
      (this.rpmKey === null || this.requestsUsed < this.requests) &&
      (this.tpmKey === null || this.tokensUsed + tokens <= this.tokens) &&
      (this.budgetKey === null || this.nanosUsed + nanos <= this.nanos)
    );
  }

  /** Less than half of it is left, or a quarter of its time. */
  low(now: number, ttlMs: number): boolean {
    return (
      (this.rpmKey !== null && 2 * (this.requests - this.requestsUsed) < this.requests) ||
      (this.tpmKey !== null && 2 * (this.tokens - this.tokensUsed) < this.tokens) ||
      (this.budgetKey !== null && 2 * (this.nanos - this.nanosUsed) < this.nanos) ||
      this.expiresAt - now < ttlMs / 4
    );
  }
}

/** A parallel slot a replica holds in Redis: in use by a request, or idle in its scope's pool. */
interface Slot {
  readonly key: string;
  readonly member: string;
  /** performance.now() when it went idle. */
  since: number;
}

/** What the replica knows about one scope with limits. */
class ScopeState {
  block: Block | null = null;
  asking = false;
  /** No new lease is asked for before this (after a refusal or a failed call). */
  quietUntil = 0;
  /** Demand: admissions, tokens and nanos in the current and the previous ttl-long bucket. */
  bucketStart: number;
  count = 0;
  tokens = 0;
  nanos = 0;
  lastCount = 0;
  lastTokens = 0;
  lastNanos = 0;
  /** Idle parallel slots, the longest idle first. */
  readonly idle: Slot[] = [];
  inUse = 0;
  refreshedAt: number;

  constructor(
    now: number,
    /** The limits last seen; blocks and slots leased under others are given back. */
    public limits: LimitScope,
  ) {
    this.bucketStart = now;
    this.refreshedAt = now;
  }

  note(now: number, ttlMs: number, tokens: number, nanos: number): void {
    if (now - this.bucketStart >= ttlMs) {
      const recent = now - this.bucketStart < 2 * ttlMs;
      this.lastCount = recent ? this.count : 0;
      this.lastTokens = recent ? this.tokens : 0;
      this.lastNanos = recent ? this.nanos : 0;
      this.count = this.tokens = this.nanos = 0;
      this.bucketStart = now;
    }
    this.count++;
    this.tokens += tokens;
    this.nanos += nanos;
  }
}

/** A reservation admitted from leased blocks: settled against them, not in Redis. */
export class LeasedReservation implements Reservation {
  readonly charged = LEASED_CHARGED;
  settled = false;

  constructor(
    readonly id: string,
    readonly scopes: readonly LimitScope[],
    readonly tokens: number,
    readonly costNanos: number,
    /** Per scope (same order): the block it was charged to, the parallel slot it holds. */
    readonly blocks: readonly (Block | null)[],
    readonly slots: readonly (Slot | null)[],
  ) {}
}

const LEASED_CHARGED: Readonly<Record<string, string>> = Object.freeze({ [RESERVATION_BACKEND]: 'lease' });

interface GrantRequest {
  readonly state: ScopeState;
  readonly scope: LimitScope;
  readonly leaseId: string;
  /** A block was asked for (else only parallel slots). */
  readonly wantBlock: boolean;
  readonly args: readonly string[];
}

/**
 * Admission without a round trip: a replica leases blocks of a busy scope's limits from Redis and
 * admits from them in memory. A block is charged in Redis when granted, like that many admissions
 * at once, so what all replicas admit stays within every limit; what a block leaves unused is
 * given back when it ends (after `ttlMs`, when the tpm window or budget period ends, or when a
 * new block replaces it). Parallel slots are pooled: a settled request's slot goes back to its
 * replica's pool, and a slot idle for two ttls goes back to Redis.
 *
 * Only scopes with at least `hotAfter` admissions in a ttl lease (a lone request is admitted one
 * by one, as before, with exact headers); a grant takes at most a sixteenth of what a limit has
 * left and is never smaller than `hotAfter` requests' worth, so near a limit no block is granted
 * and every admission is decided in Redis again, where refusals are made. The price: capacity leased by one replica and not used is unavailable to
 * the others until it is given back, and a crashed replica's unused budget stays spent.
 */
export class LeaseBook {
  readonly #settings: LeaseSettings;
  readonly #prefix: string;
  readonly #send: SendLeases;
  readonly #onError: (error: unknown) => void;
  readonly #states = new Map<string, ScopeState>();
  /** Reservation ids: a random prefix and a counter (unique like a UUID, without one per request). */
  readonly #idPrefix = `${randomUUID()}:`;
  #idCount = 0;
  /** Corrections waiting for the next call, summed per counter key. */
  #deltas = new Map<string, number>();
  #rpmReturns: string[] = [];
  #parallelReturns: string[] = [];
  #grants: GrantRequest[] = [];
  #immediate: NodeJS.Immediate | null = null;
  readonly #calls = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #leaseMs: number;
  #closed = false;
  /** Running totals (LimitCounts). */
  admitted = 0;
  calls = 0;
  blocksGranted = 0;
  blocksRefused = 0;

  constructor(options: { settings: LeaseSettings; prefix: string; leaseMs: number; send: SendLeases; onError: (error: unknown) => void }) {
    this.#settings = options.settings;
    this.#prefix = options.prefix;
    this.#send = options.send;
    this.#onError = options.onError;
    this.#leaseMs = options.leaseMs;
    this.#sweeper = setInterval(() => this.#sweep(performance.now()), Math.max(1, Math.floor(this.#settings.ttlMs / 2)));
    this.#sweeper.unref();
  }

  /**
   * Admits from the scopes' blocks when every limited scope has room, or returns null (the caller
   * asks Redis). Either way, counts the demand and asks for blocks where a busy scope lacks one.
   */
  tryAdmit(request: AdmissionRequest): Admission | null {
    if (this.#closed) return null;
    const now = performance.now();
    const { scopes, tokens, costNanos } = request;
    let fits = true;
    for (const scope of scopes) {
      if (!hasAnyLimit(scope)) continue;
      const state = this.#stateOf(scope, now);
      if (!sameLimits(state.limits, scope)) this.#limitsChanged(state, scope);
      state.note(now, this.#settings.ttlMs, tokens, costNanos);
      if (fits && !this.#fits(state, scope, tokens, costNanos, now)) fits = false;
    }
    if (!fits) {
      // Blocks only where every scope of the request is busy: a busy team's block is no use to
      // the requests of its keys while one of them is not (they would all go to Redis anyway).
      if (scopes.every((scope) => !hasAnyLimit(scope) || this.#busy(this.#states.get(scope.id)!))) {
        for (const scope of scopes) if (hasAnyLimit(scope)) this.#maybeAsk(this.#states.get(scope.id)!, scope, tokens, costNanos, now);
      }
      return null;
    }
    const blocks: (Block | null)[] = [];
    const slots: (Slot | null)[] = [];
    let status: MutableStatus | null = null;
    for (const scope of scopes) {
      if (!hasAnyLimit(scope)) {
        blocks.push(null);
        slots.push(null);
        continue;
      }
      const state = this.#states.get(scope.id)!;
      const block = needsBlock(scope) ? state.block! : null;
      if (block !== null) {
        block.requestsUsed++;
        block.tokensUsed += tokens;
        block.nanosUsed += costNanos;
        status = tighter(status, scope, block);
      }
      let slot: Slot | null = null;
      if (scope.maxParallel !== null) {
        slot = state.idle.pop()!;
        state.inUse++;
      }
      blocks.push(block);
      slots.push(slot);
      this.#maybeAsk(state, scope, tokens, costNanos, now);
    }
    this.admitted++;
    const reservation = new LeasedReservation(this.#idPrefix + (++this.#idCount).toString(36), scopes, tokens, costNanos, blocks, slots);
    return { ok: true, reservation, status: status === null ? UNKNOWN_RATE_STATUS : status };
  }

  /** Settles a reservation admitted by tryAdmit; a second settlement changes nothing. */
  settle(reservation: LeasedReservation, actualTokens: number, actualCostNanos: number): void {
    if (reservation.settled) return;
    reservation.settled = true;
    const tokenDelta = actualTokens - reservation.tokens;
    const nanoDelta = actualCostNanos - reservation.costNanos;
    const now = performance.now();
    for (let i = 0; i < reservation.scopes.length; i++) {
      const block = reservation.blocks[i];
      if (block != null) {
        if (!block.released) {
          block.tokensUsed += tokenDelta;
          block.nanosUsed += nanoDelta;
        } else {
          // The block was given back already: the difference goes to Redis on its own.
          if (block.tpmKey !== null) this.#correct(block.tpmKey, tokenDelta);
          if (block.budgetKey !== null) this.#correct(block.budgetKey, nanoDelta);
        }
      }
      const slot = reservation.slots[i];
      if (slot != null) {
        const scope = reservation.scopes[i]!;
        const state = this.#states.get(scope.id);
        if (state !== undefined) state.inUse--;
        // A slot taken under limits that have changed since goes back to Redis, not to the pool.
        if (state === undefined || this.#closed || !sameLimits(state.limits, scope)) {
          this.#giveBack(slot);
        } else {
          slot.since = now;
          state.idle.push(slot);
        }
      }
    }
  }

  /** Unused budget of this replica's blocks for a scope: charged in Redis, not spent. */
  unusedNanos(scopeId: string): number {
    const block = this.#states.get(scopeId)?.block;
    return block == null || block.released || block.budgetKey === null ? 0 : Math.max(0, block.nanos - block.nanosUsed);
  }

  /** Sends what waits (returns, corrections, grants) now. */
  flush(): void {
    if (this.#immediate !== null) {
      clearImmediate(this.#immediate);
      this.#immediate = null;
    }
    const grants = this.#grants;
    if (grants.length === 0 && this.#deltas.size === 0 && this.#rpmReturns.length === 0 && this.#parallelReturns.length === 0) return;
    const deltas: string[] = [];
    for (const [key, amount] of this.#deltas) if (amount !== 0) deltas.push(key, String(amount));
    const args = [
      String(deltas.length / 2),
      ...deltas,
      String(this.#rpmReturns.length / 4),
      ...this.#rpmReturns,
      String(this.#parallelReturns.length / 2),
      ...this.#parallelReturns,
      ...this.#refreshes(performance.now()),
      String(grants.length),
    ];
    for (const grant of grants) args.push(...grant.args);
    this.#deltas = new Map();
    this.#rpmReturns = [];
    this.#parallelReturns = [];
    this.#grants = [];
    // A block's time runs from before the call: Redis dates its rpm entries by its own clock when
    // the script runs, which is later.
    const sentAt = performance.now();
    this.calls++;
    const call = this.#send(args).then(
      (answer) => this.#granted(grants, answer, sentAt),
      (error: unknown) => {
        const now = performance.now();
        for (const { state } of grants) {
          state.asking = false;
          state.quietUntil = now + this.#settings.ttlMs;
        }
        this.#onError(error);
      },
    );
    this.#calls.add(call);
    void call.finally(() => this.#calls.delete(call));
  }

  /** Gives every block and idle slot back and waits for the calls made so far. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const state of this.#states.values()) {
      if (state.block !== null) this.#release(state.block);
      for (const slot of state.idle.splice(0)) this.#giveBack(slot);
    }
    this.#grants = [];
    this.flush();
    while (this.#calls.size > 0) await Promise.allSettled([...this.#calls]);
  }

  /** Ends blocks whose time is up, gives back slots idle for two ttls, forgets quiet scopes. */
  #sweep(now: number): void {
    const { ttlMs } = this.#settings;
    for (const [id, state] of this.#states) {
      if (state.block !== null && !state.block.released && now >= state.block.expiresAt) {
        this.#release(state.block);
        state.block = null;
      }
      while (state.idle.length > 0 && now - state.idle[0]!.since >= 2 * ttlMs) this.#giveBack(state.idle.shift()!);
      const quiet = now - state.bucketStart >= 2 * ttlMs;
      if (quiet && state.block === null && state.idle.length === 0 && state.inUse === 0 && !state.asking) this.#states.delete(id);
    }
  }

  /** A key's or team's limits were changed: what was leased under the old ones goes back. */
  #limitsChanged(state: ScopeState, scope: LimitScope): void {
    state.limits = scope;
    if (state.block !== null) {
      this.#release(state.block);
      state.block = null;
    }
    for (const slot of state.idle.splice(0)) this.#giveBack(slot);
  }

  #stateOf(scope: LimitScope, now: number): ScopeState {
    let state = this.#states.get(scope.id);
    if (state === undefined) {
      state = new ScopeState(now, scope);
      this.#states.set(scope.id, state);
    }
    return state;
  }

  /** At least `hotAfter` admissions in the current and the previous ttl. */
  #busy(state: ScopeState): boolean {
    return state.count + state.lastCount >= this.#settings.hotAfter;
  }

  #fits(state: ScopeState, scope: LimitScope, tokens: number, nanos: number, now: number): boolean {
    if (needsBlock(scope) && (state.block === null || !state.block.fits(scope, tokens, nanos, now))) return false;
    return scope.maxParallel === null || state.idle.length > 0;
  }

  #maybeAsk(state: ScopeState, scope: LimitScope, tokens: number, nanos: number, now: number): void {
    if (state.asking || this.#closed || now < state.quietUntil) return;
    const { ttlMs, maxBlock, hotAfter } = this.#settings;
    if (!this.#busy(state)) return;
    const demand = state.count + state.lastCount;
    const block = state.block;
    const wantBlock = needsBlock(scope) && (block === null || !block.fits(scope, tokens, nanos, now) || block.low(now, ttlMs));
    const wantSlots = scope.maxParallel !== null && state.idle.length === 0;
    if (!wantBlock && !wantSlots) return;
    const perTtl = Math.max(state.count, state.lastCount);
    const requests = Math.min(maxBlock, Math.max(hotAfter, 2 * perTtl));
    const avgTokens = (state.tokens + state.lastTokens) / demand;
    const avgNanos = (state.nanos + state.lastNanos) / demand;
    const slots = wantSlots ? Math.min(64, Math.max(4, state.inUse)) : 0;
    const leaseId = `L${randomUUID()}`;
    state.asking = true;
    this.#grants.push({
      state,
      scope,
      leaseId,
      wantBlock,
      args: [
        ...scopeArgs(scope),
        leaseId,
        String(wantBlock ? requests : 0),
        String(wantBlock ? Math.ceil(requests * Math.max(avgTokens, tokens)) : 0),
        String(wantBlock ? Math.ceil(requests * Math.max(avgNanos, nanos)) : 0),
        String(slots),
        // A block is for at least hotAfter requests: with less room than that × LEASE_SHARE left,
        // the scope is near its limit and its admissions are decided one by one.
        String(hotAfter),
        String(Math.ceil(hotAfter * Math.max(avgTokens, tokens))),
        String(Math.ceil(hotAfter * Math.max(avgNanos, nanos))),
      ],
    });
    this.#schedule();
  }

  #granted(grants: readonly GrantRequest[], answer: string, sentAt: number): void {
    const parsed = JSON.parse(answer) as unknown;
    const answers = Array.isArray(parsed) ? (parsed as Grant[]) : [];
    const now = performance.now();
    for (let i = 0; i < grants.length; i++) {
      const { state, scope, leaseId, wantBlock } = grants[i]!;
      state.asking = false;
      const grant = answers[i];
      if (grant === undefined) continue;
      // Granted under limits that have changed since (or after close): all of it goes back.
      const stale = this.#closed || !sameLimits(state.limits, scope);
      for (let n = 1; n <= grant.par; n++) {
        const slot = { key: `${this.#prefix}parallel:${scope.id}`, member: `${leaseId}:p${n}`, since: now };
        if (stale) this.#giveBack(slot);
        else state.idle.push(slot);
      }
      if (!wantBlock) continue;
      if (!grant.ok) {
        // Too little room for a block (near a limit): admissions go to Redis one by one for a while.
        this.blocksRefused++;
        state.quietUntil = now + this.#settings.ttlMs / 4;
        continue;
      }
      let life = this.#settings.ttlMs;
      if (scope.tpm !== null) life = Math.min(life, grant.win_left);
      if (scope.budgetNanos !== null && grant.period_left >= 0) life = Math.min(life, grant.period_left);
      const block = new Block(
        leaseId,
        scope,
        scope.rpm === null ? null : `${this.#prefix}rpm:${scope.id}`,
        grant.req,
        scope.tpm === null ? null : `${this.#prefix}tpm:${scope.id}:${grant.win}`,
        grant.tok,
        scope.budgetNanos === null || grant.period === undefined ? null : `${this.#prefix}budget:${scope.id}:${grant.period}`,
        grant.nanos,
        sentAt + life,
        grant.rr ?? null,
        grant.rt ?? null,
      );
      this.blocksGranted++;
      if (stale) {
        this.#release(block);
        continue;
      }
      if (state.block !== null) this.#release(state.block);
      state.block = block;
    }
    if (this.#closed) this.flush();
  }

  #release(block: Block): void {
    if (block.released) return;
    block.released = true;
    if (block.rpmKey !== null && block.requestsUsed < block.requests) {
      this.#rpmReturns.push(block.rpmKey, block.leaseId, String(block.requestsUsed + 1), String(block.requests));
    }
    if (block.tpmKey !== null) this.#correct(block.tpmKey, block.tokensUsed - block.tokens);
    if (block.budgetKey !== null) this.#correct(block.budgetKey, block.nanosUsed - block.nanos);
    this.#schedule();
  }

  /** A parallel slot goes back to Redis with the next call. */
  #giveBack(slot: Slot): void {
    this.#parallelReturns.push(slot.key, slot.member);
    this.#schedule();
  }

  /** Adds an amount to a counter in Redis with the next call (amounts for one key are summed). */
  #correct(key: string, amount: number): void {
    if (amount === 0) return;
    this.#deltas.set(key, (this.#deltas.get(key) ?? 0) + amount);
    this.#schedule();
  }

  /** Held slots are re-dated now and then, so that Redis does not take them for abandoned. */
  #refreshes(now: number): string[] {
    const refresh: string[] = [];
    for (const state of this.#states.values()) {
      if (now - state.refreshedAt < this.#leaseMs / 4) continue;
      state.refreshedAt = now;
      for (const slot of state.idle) refresh.push(slot.key, slot.member);
    }
    // Slots in use are re-dated through the idle ones only; a request running longer than a
    // quarter lease holds one that is re-dated when it comes back.
    return [String(refresh.length / 2), ...refresh];
  }

  #schedule(): void {
    this.#immediate ??= setImmediate(() => {
      this.#immediate = null;
      this.flush();
    });
  }
}

type MutableStatus = {
  -readonly [K in keyof RateStatus]: RateStatus[K];
};

/** The headers' numbers: what Redis had left beyond the block when it was granted, plus what the block has left. */
function tighter(status: MutableStatus | null, scope: LimitScope, block: Block): MutableStatus {
  const next = status ?? { ...UNKNOWN_RATE_STATUS };
  if (scope.rpm !== null && block.requestsLeftBeyond !== null) {
    const left = block.requestsLeftBeyond + block.requests - block.requestsUsed;
    if (next.remainingRequests === null || left < next.remainingRequests) {
      next.remainingRequests = left;
      next.limitRequests = scope.rpm;
    }
  }
  if (scope.tpm !== null && block.tokensLeftBeyond !== null) {
    const left = Math.max(0, block.tokensLeftBeyond + block.tokens - block.tokensUsed);
    if (next.remainingTokens === null || left < next.remainingTokens) {
      next.remainingTokens = left;
      next.limitTokens = scope.tpm;
    }
  }
  return next;
}

function needsBlock(scope: LimitScope): boolean {
  return scope.rpm !== null || scope.tpm !== null || scope.budgetNanos !== null;
}

function sameLimits(a: LimitScope, b: LimitScope): boolean {
  return a === b || (a.rpm === b.rpm && a.tpm === b.tpm && a.maxParallel === b.maxParallel && a.budgetNanos === b.budgetNanos && a.budgetPeriod === b.budgetPeriod);
}
