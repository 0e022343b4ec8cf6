import type { AppendOptions } from '../audit/chain.js';
import type { SqliteWriterData } from './sqlite-writer-worker.js';
import type { ThreadPriority } from './thread-priority.js';
import { WriterThread } from './writer-thread.js';

export interface SqliteWorkerSinkOptions {
  readonly busyTimeoutMs?: number;
  /**
   * Append each row's audit entry in the same transaction as the row (docs/audit.md); null or
   * absent: the audit log is off. The secret in it goes to the thread and nowhere else.
   */
  readonly audit?: AppendOptions | null;
  /** How long after the thread died a new one may start (default 1,000 ms). */
  readonly restartDelayMs?: number;
  /** Default `normal`; see thread-priority.ts. */
  readonly priority?: ThreadPriority;
  /** Start the thread at the first batch. */
  readonly lazy?: boolean;
  /** End the thread after this long without a batch (see WriterThreadOptions). */
  readonly idleEndMs?: number;
}

/**
 * Writes request-log batches, and the requests' audit entries with them, to a SQLite file from a
 * worker thread (see sqlite-writer-worker.ts for why): the same table, columns and idempotent
 * insert as the store's own insertRequests, and the same chain as AuditStore.
 */
export class SqliteWorkerSink extends WriterThread {
  constructor(path: string, options: SqliteWorkerSinkOptions = {}) {
    const data: SqliteWriterData = { path, busyTimeoutMs: options.busyTimeoutMs ?? 5_000, audit: options.audit ?? null };
    super('sqlite-writer-worker', data, options);
  }
}
