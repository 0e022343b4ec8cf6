/**
 * A sliding log of admission times, for an exact `rpm`: a request fits when fewer than `limit`
 * admissions lie in the last `windowMs` (an admission at t counts while now < t + windowMs), so
 * no window of `windowMs` ever holds more than `limit`. The times are a queue read from a head
 * index and compacted now and then: O(1) amortised per admission, and never longer than the
 * limit, since a time is appended only when the log has room. The Redis admission script
 * (redis-scripts.ts) keeps the same log in a sorted set scored by Redis's clock.
 */
export class RequestLog {
  private times: number[] = [];
  private head = 0;

  /** Admissions still in the window that ends at `now`; older ones are dropped. */
  count(now: number, windowMs: number): number {
    const cutoff = now - windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.head += 1;
    if (this.head === this.times.length) {
      this.times = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.times.length) {
      // Copying the live half costs no more than the drops that made it dead: amortised O(1).
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  append(at: number): void {
    this.times.push(at);
  }

  /**
   * Milliseconds from `now` until one more admission fits under `limit`, if none is added
   * meanwhile: 0 if it fits now; otherwise when the oldest admission that must leave for it has
   * left. A limit below one never fits: a whole window, as a back-off. Call after `count(now)`.
   * At least 1 ms when full, even if the wall clock stepped back and left the times out of order.
   */
  waitMs(now: number, windowMs: number, limit: number): number {
    if (limit < 1) return windowMs;
    const live = this.times.length - this.head;
    if (live < limit) return 0;
    return Math.max(1, this.times[this.head + live - limit]! + windowMs - now);
  }
}
