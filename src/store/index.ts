// The store's public surface in one place.
export type * from './types.js';
export { openStore, createSqliteStore, createPostgresStore, parseStoreUrl, redactUrl, DEFAULT_SQLITE_PATH } from './open-store.js';
export type { OpenStoreOptions, StoreTarget } from './open-store.js';
export { SqlGovernanceStore } from './sql-store.js';
export { StoreConflictError } from './errors.js';
export { RequestWriter } from './request-writer.js';
export type { RequestWriterOptions } from './request-writer.js';
export { startRetention, DEFAULT_RETENTION_INTERVAL_MS } from './retention.js';
export type { RetentionHandle, RetentionOptions } from './retention.js';
export { createNotifier, pickNotifier } from './notifiers.js';
export type { NotifierKind, NotifierOptions } from './notifiers.js';
export { InProcessChangeNotifier } from './in-process-notifier.js';
export { PostgresChangeNotifier, DEFAULT_POSTGRES_CHANNEL } from './postgres-notifier.js';
export type { PostgresNotifierOptions } from './postgres-notifier.js';
export { RedisChangeNotifier, DEFAULT_REDIS_CHANNEL } from './redis-notifier.js';
export type { RedisNotifierOptions } from './redis-notifier.js';
