const MINUTE_MS = 60_000;

/**
 * A per-minute sliding window (two fixed windows, the previous one weighted by how much of it
 * still overlaps): cheap, no timers, close enough for keeping under an upstream's rpm/tpm.
 * Per replica; limits shared across replicas come with the governance store.
 */
export class RateWindow {
  private windowStart = 0;
  private current = 0;
  private previous = 0;

  constructor(private readonly limit: number) {}

  /** Whether `amount` more fits under the limit now. */
  fits(now: number, amount: number): boolean {
    this.roll(now);
    return this.estimate(now) + amount <= this.limit;
  }

  add(now: number, amount: number): void {
    this.roll(now);
    this.current += amount;
  }

  /** Milliseconds until `amount` would fit, at the latest when the window has rolled over. */
  waitMs(now: number): number {
    this.roll(now);
    return Math.max(0, this.windowStart + MINUTE_MS - now);
  }

  private estimate(now: number): number {
    const overlap = 1 - (now - this.windowStart) / MINUTE_MS;
    return this.current + this.previous * Math.max(0, overlap);
  }

  private roll(now: number): void {
    if (this.windowStart === 0) {
      this.windowStart = now - (now % MINUTE_MS);
      return;
    }
    const elapsed = now - this.windowStart;
    if (elapsed < MINUTE_MS) return;
    this.previous = elapsed < 2 * MINUTE_MS ? this.current : 0;
    this.current = 0;
    this.windowStart = now - (now % MINUTE_MS);
  }
}
