import type { BreakerConfig } from '../config/schema.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

const BUCKETS = 10;

/**
 * A circuit breaker per deployment. Closed: every outcome is counted in a rolling window of
 * buckets; it opens after `failures` failures in a row, or when the error rate over the window
 * reaches `error_rate` once `min_requests` were seen. Open: no traffic for `open_ms`. Then
 * half-open: up to `probes` requests at once go through; a success closes it, a failure opens it
 * again. All O(1), no timers: time is passed in.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  private readonly totals = new Uint32Array(BUCKETS);
  private readonly failed = new Uint32Array(BUCKETS);
  private bucketStart = 0;
  private bucketIndex = 0;
  private readonly bucketMs: number;

  constructor(private readonly config: BreakerConfig) {
    this.bucketMs = Math.max(1, Math.floor(config.window_ms / BUCKETS));
  }

  stateAt(now: number): CircuitState {
    if (this.state === 'open' && now - this.openedAt >= this.config.open_ms) return 'half-open';
    return this.state;
  }

  /** When an open circuit lets a probe through (epoch ms); 0 unless open. */
  reopensAt(): number {
    return this.state === 'open' ? this.openedAt + this.config.open_ms : 0;
  }

  /** Whether a request may be sent now (half-open: while a probe slot is free). */
  allows(now: number): boolean {
    const state = this.stateAt(now);
    if (state === 'closed') return true;
    if (state === 'open') return false;
    return this.probesInFlight < this.config.probes;
  }

  /** Call when a request is actually sent, so half-open probes are counted. */
  onSend(now: number): boolean {
    const state = this.stateAt(now);
    if (state !== 'half-open') return false;
    this.state = 'half-open';
    this.probesInFlight++;
    return true;
  }

  onSuccess(now: number, wasProbe: boolean): void {
    if (wasProbe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    if (this.state === 'half-open') this.close();
    this.consecutiveFailures = 0;
    this.count(now, false);
  }

  onFailure(now: number, wasProbe: boolean): void {
    if (wasProbe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    if (this.state === 'half-open') {
      this.open(now);
      return;
    }
    this.consecutiveFailures++;
    this.count(now, true);
    if (this.state !== 'closed') return;
    if (this.consecutiveFailures >= this.config.failures) {
      this.open(now);
      return;
    }
    let total = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      total += this.totals[i]!;
      failures += this.failed[i]!;
    }
    if (total >= this.config.min_requests && failures / total >= this.config.error_rate) this.open(now);
  }

  /** A probe that ended without a verdict (e.g. the client left) frees its slot. */
  onAbandon(wasProbe: boolean): void {
    if (wasProbe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
  }

  /** An active health check failed: no traffic until the circuit would reopen. */
  forceOpen(now: number): void {
    if (this.state !== 'open') this.open(now);
  }

  /** An active health check passed: an open circuit lets its probe through now rather than later. */
  healthCheckPassed(now: number): void {
    if (this.state === 'open') this.openedAt = Math.min(this.openedAt, now - this.config.open_ms);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.probesInFlight = 0;
  }

  private close(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.totals.fill(0);
    this.failed.fill(0);
  }

  private count(now: number, failure: boolean): void {
    this.advance(now);
    this.totals[this.bucketIndex]!++;
    if (failure) this.failed[this.bucketIndex]!++;
  }

  /** Moves the window forward, clearing buckets that fell out of it. */
  private advance(now: number): void {
    if (this.bucketStart === 0) this.bucketStart = now;
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    if (steps > BUCKETS) steps = BUCKETS;
    for (let i = 0; i < steps; i++) {
      this.bucketIndex = (this.bucketIndex + 1) % BUCKETS;
      this.totals[this.bucketIndex] = 0;
      this.failed[this.bucketIndex] = 0;
    }
    this.bucketStart = now - ((now - this.bucketStart) % this.bucketMs);
  }
}
