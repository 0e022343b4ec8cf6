/**
 * Counts events over a sliding window of fixed buckets (e.g. 12 × 5 s), so "picks in the last
 * minute" costs one array and no timestamps per event.
 */
export class PickWindow {
  private readonly counts: Float64Array;
  private readonly bucketMs: number;
  /** Index of the newest bucket as time / bucketMs. */
  private newest = 0;

  constructor(
    readonly windowMs: number,
    buckets = 12,
  ) {
    this.counts = new Float64Array(buckets);
    this.bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
  }

  add(now: number, count = 1): void {
    this.advance(now);
    this.counts[this.newest % this.counts.length]! += count;
  }

  total(now: number): number {
    this.advance(now);
    let sum = 0;
    for (const count of this.counts) sum += count;
    return sum;
  }

  private advance(now: number): void {
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket <= this.newest) return;
    const steps = Math.min(bucket - this.newest, this.counts.length);
    for (let step = 1; step <= steps; step++) this.counts[(this.newest + step) % this.counts.length] = 0;
    this.newest = bucket;
  }
}
