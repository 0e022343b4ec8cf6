/**
 * For tpm (rpm is an exact log, request-log.ts). The arithmetic of a sliding window made of two
 * fixed windows: the estimate of what was used in the last `windowMs` is the current window's
 * count plus the previous window's count weighted by how much of it still overlaps. Comparisons
 * are made in integers scaled by `windowMs`, so that a window edge is exact (no 4.000000001 > 4).
 * The Redis Lua script (redis-scripts.ts) does the same sums; keep the two in step.
 */

/** What was counted in the current and the previous fixed window. */
export interface WindowCounts {
  readonly current: number;
  readonly previous: number;
}

export function windowIndex(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

/** Whether `amount` more fits under `limit`, `elapsed` ms into the current window. */
export function fitsInWindow(counts: WindowCounts, elapsed: number, windowMs: number, limit: number, amount: number): boolean {
  return (counts.current + amount) * windowMs + counts.previous * (windowMs - elapsed) <= limit * windowMs;
}

/** Whole units still free now. */
export function remainingInWindow(counts: WindowCounts, elapsed: number, windowMs: number, limit: number): number {
  const free = limit * windowMs - counts.current * windowMs - counts.previous * (windowMs - elapsed);
  return Math.max(0, Math.floor(free / windowMs));
}

/**
 * Milliseconds until `amount` fits, if nothing else is charged meanwhile: 0 if it fits now; while
 * the previous window fades, the first millisecond its weight is low enough; otherwise into the
 * next window, where this window's count becomes the fading one. An amount above the limit never
 * fits: the answer is a whole window, a polite back-off rather than a promise.
 */
export function waitForRoomMs(counts: WindowCounts, elapsed: number, windowMs: number, limit: number, amount: number): number {
  if (amount > limit) return windowMs;
  if (fitsInWindow(counts, elapsed, windowMs, limit, amount)) return 0;
  if (counts.current + amount <= limit) {
    const at = firstFittingMs(counts.previous, (limit - amount - counts.current) * windowMs, windowMs);
    return Math.max(1, at - elapsed);
  }
  return windowMs - elapsed + firstFittingMs(counts.current, (limit - amount) * windowMs, windowMs);
}

/** The first ms t into a window at which `fading × (windowMs − t) ≤ room` (room and fading ≥ 0, fading > 0). */
function firstFittingMs(fading: number, room: number, windowMs: number): number {
  let at = windowMs - Math.floor(room / fading);
  // The division is rounded; one step corrects a quotient that rounded up to a whole number.
  if (fading * (windowMs - at) > room) at += 1;
  return at;
}
