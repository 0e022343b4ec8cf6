import type { AppendOptions } from '../audit/chain.js';
import type { PostgresWriterData } from './postgres-writer-worker.js';
import { WriterThread, type WriterThreadOptions } from './writer-thread.js';

/**
 * Writes request-log batches, and the requests' audit entries with them, to Postgres from a
 * worker thread with its own small pool: the same statements as on the main thread
 * (AuditStore.insertRequests, or the store's insertRequests without the audit log), whose
 * building, chaining (canonical JSON, SHA-256) and result handling otherwise take the event loop
 * for milliseconds per batch. `audit` null: the audit log is off; its secret goes to the thread
 * and nowhere else.
 */
export class PostgresWorkerSink extends WriterThread {
  constructor(connectionString: string, audit: AppendOptions | null, options: WriterThreadOptions = {}) {
    const data: PostgresWriterData = { connectionString, audit };
    super('postgres-writer-worker', data, options);
  }
}
