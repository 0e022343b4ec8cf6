export * from './types.js';
export { DEFAULT_LIMIT_TIMINGS, UNKNOWN_RATE_STATUS, type LimitTimingOptions } from './admission.js';
export { budgetPeriodId, nextPeriodStart, periodStart } from './budget-period.js';
export { createLimitBackend, type LimitBackendSettings } from './create-limit-backend.js';
export { MemoryLimitBackend, type MemoryLimitBackendOptions } from './memory-backend.js';
export {
  DEFAULT_LIMITS_KEY_PREFIX,
  LimitsUnavailableError,
  RedisLimitBackend,
  type OnRedisUnavailable,
  type RedisLimitBackendOptions,
} from './redis-backend.js';
