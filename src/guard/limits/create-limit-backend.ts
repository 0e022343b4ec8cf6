import type { LimitTimingOptions } from './admission.js';
import { MemoryLimitBackend } from './memory-backend.js';
import { RedisLimitBackend, type OnRedisUnavailable } from './redis-backend.js';
import type { LimitBackend, LimitLog } from './types.js';
import type { LeaseOptions } from './leases.js';

export interface LimitBackendSettings extends LimitTimingOptions {
  /** Redis shared by the replicas; null: limits in this process's memory. */
  readonly redisUrl: string | null;
  /** Redis only; default `fail-closed`. */
  readonly onUnavailable?: OnRedisUnavailable;
  /** Redis only; the full prefix of the limit keys, default `stellwerk:limits:`. */
  readonly keyPrefix?: string;
  readonly log?: LimitLog;
  /** Redis only; default on (LeaseOptions' defaults). */
  readonly leases?: LeaseOptions | false;
}

/** The backend the configuration asks for: Redis when replicas share limits, memory otherwise. */
export function createLimitBackend(settings: LimitBackendSettings): LimitBackend {
  const { redisUrl, onUnavailable, keyPrefix, log, leases, ...timings } = settings;
  if (redisUrl === null) return new MemoryLimitBackend(timings);
  return new RedisLimitBackend({
    ...timings,
    url: redisUrl,
    ...(onUnavailable === undefined ? {} : { onUnavailable }),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    ...(log === undefined ? {} : { log }),
    ...(leases === undefined ? {} : { leases }),
  });
}
