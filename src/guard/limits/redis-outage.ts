import type { LimitLog } from './types.js';

/**
 * Says loudly that Redis went away, what that means for limits, and when it came back — once per
 * outage and then at most every `repeatMs`, not once per request or reconnect attempt.
 */
export class RedisOutageReporter {
  private down = false;
  private since = 0;
  private lastLoggedAt = 0;
  private failuresSinceLog = 0;

  constructor(
    private readonly log: LimitLog,
    private readonly mode: 'fail-open' | 'fail-closed',
    private readonly repeatMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(error: unknown, during: string): void {
    const now = this.now();
    const reason = error instanceof Error ? error.message : String(error);
    if (!this.down) {
      this.down = true;
      this.since = now;
      this.lastLoggedAt = now;
      this.failuresSinceLog = 0;
      const consequence =
        this.mode === 'fail-open'
          ? 'rate limits and budgets are now enforced per replica, not shared (fail-open)'
          : 'requests of keys with limits are refused with 503 (fail-closed)';
      this.log(`limits: Redis unreachable; ${consequence}`, { level: 'error', during, error: reason, mode: this.mode });
      return;
    }
    this.failuresSinceLog += 1;
    if (now - this.lastLoggedAt >= this.repeatMs) {
      this.log('limits: Redis still unreachable', {
        level: 'error',
        during,
        error: reason,
        mode: this.mode,
        down_ms: now - this.since,
        failures: this.failuresSinceLog,
      });
      this.lastLoggedAt = now;
      this.failuresSinceLog = 0;
    }
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.log('limits: Redis reachable again; limits are shared across replicas again', {
      level: 'warn',
      mode: this.mode,
      down_ms: this.now() - this.since,
    });
  }
}
