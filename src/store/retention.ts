import type { GovernanceStore } from './types.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** After each run, with the number of rows deleted. */
  readonly onDeleted?: (count: number) => void;
  readonly onError?: (error: unknown) => void;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** Calling it stops the retention (as does `stop()`); `runNow()` runs a deletion on demand. */
export interface RetentionHandle {
  (): void;
  stop(): void;
  /** Runs a deletion now (or joins the one running) and resolves to the rows it deleted; rejects with its error. */
  runNow(): Promise<number>;
}

export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

/**
 * Deletes request rows older than `days` in the background: once right away, then every
 * `intervalMs` (default hourly). The timer is unref'd (it never keeps the process alive) and
 * runs never overlap; on several replicas they simply race, and deleting what is gone already
 * is harmless.
 */
export function startRetention(
  store: Pick<GovernanceStore, 'deleteRequestsBefore'>,
  days: number,
  intervalMs: number = DEFAULT_RETENTION_INTERVAL_MS,
  options: RetentionOptions = {},
): RetentionHandle {
  if (!(days > 0)) throw new RangeError(`retention days must be positive, got ${days}`);
  if (!(intervalMs > 0)) throw new RangeError(`retention interval must be positive, got ${intervalMs}`);
  const now = options.now ?? Date.now;
  let running: Promise<number> | null = null;
  let stopped = false;

  const run = (): Promise<number> => {
    running ??= (async () => {
      try {
        const deleted = await store.deleteRequestsBefore(now() - days * DAY_MS);
        options.onDeleted?.(deleted);
        return deleted;
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const tick = (): void => {
    // A run still going (a big first deletion) simply takes this turn.
    if (stopped || running !== null) return;
    run().catch((error: unknown) => options.onError?.(error));
  };

  const first = setTimeout(tick, 0);
  first.unref();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  const stop = (): void => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
  };
  return Object.assign(stop, { stop, runNow: run });
}
