/** Weight of a new sample in the moving averages. */
const ALPHA = 0.3;

/**
 * Exponentially weighted moving averages of a deployment's time to first token and time per
 * output token. A deployment that gets no traffic has its record fade (halved every `decayMs`),
 * so one that was slow and has recovered is tried again instead of being shunned for ever.
 */
export class LatencyTracker {
  private ttftMs = 0;
  private perTokenMs = 0;
  private samples = 0;
  private updatedAt = 0;

  constructor(private readonly decayMs: number) {}

  record(now: number, ttftMs: number, perTokenMs: number | null): void {
    if (this.samples === 0) {
      this.ttftMs = ttftMs;
      this.perTokenMs = perTokenMs ?? 0;
    } else {
      const fade = this.fade(now);
      this.ttftMs = (1 - ALPHA) * this.ttftMs * fade + ALPHA * ttftMs;
      if (perTokenMs !== null) this.perTokenMs = (1 - ALPHA) * this.perTokenMs * fade + ALPHA * perTokenMs;
      else this.perTokenMs *= fade;
    }
    this.samples++;
    this.updatedAt = now;
  }

  /** Expected milliseconds for an answer of `outputTokens`; 0 when nothing is known yet (try it). */
  expectedMs(now: number, outputTokens: number): number {
    if (this.samples === 0) return 0;
    return (this.ttftMs + this.perTokenMs * outputTokens) * this.fade(now);
  }

  private fade(now: number): number {
    const idle = now - this.updatedAt;
    return idle <= 0 ? 1 : Math.pow(0.5, idle / this.decayMs);
  }
}
