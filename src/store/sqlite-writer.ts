import type { AppendOptions } from '../audit/chain.js';
import type { SqliteWriterData } from './sqlite-writer-worker.js';
import { WriterThread, type WriterThreadOptions } from './writer-thread.js';

/** The thread's own options (restart delay, priority, lazy start, idle end) and the database's. */
export interface SqliteWorkerSinkOptions extends WriterThreadOptions {
  readonly busyTimeoutMs?: number;
  /**
   * Append each row's audit entry in the same transaction as the row (docs/audit.md); null or
   * absent: the audit log is off. The secret in it goes to the thread and nowhere else.
   */
  readonly audit?: AppendOptions | null;
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
