/**
 * The thread of PostgresWorkerSink (postgres-writer.ts): its own pool of two connections, the
 * request rows and their audit entries written in one transaction under the chain's append lock,
 * exactly as AuditStore.insertRequests does on the main thread (it is the same code).
 * Migrations are the main thread's: the store is open and migrated before this thread starts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AuditStore } from '../audit/audit-store.js';
import type { AppendOptions } from '../audit/chain.js';
import { createPostgresStore } from './open-store.js';
import { wireToRow } from './row-wire.js';
import { lowerThisThread } from './thread-priority.js';
import type { WriterThreadAnswer, WriterThreadBase, WriterThreadBatch } from './writer-thread.js';

export interface PostgresWriterData {
  readonly connectionString: string;
  /** Append each row's audit entry with it; null: the audit log is off. Holds the HMAC secret. */
  readonly audit: AppendOptions | null;
}

const { connectionString, audit, priority } = workerData as PostgresWriterData & WriterThreadBase;
if (priority === 'background') lowerThisThread();
// An idle connection's error (a server restart) is not fatal: the pool opens a new one, and a
// batch that fails meanwhile is answered with its error and retried by the writer.
const store = createPostgresStore(connectionString, { poolSize: 2, onPoolError: () => {} });
const sink = audit === null ? store : new AuditStore(store.db, 'postgres').requestSink(audit);

/** Batches being written; `close` waits for them (a writer whose flush timed out may close with one in flight). */
const writing = new Set<Promise<unknown>>();

parentPort!.on('message', (batch: WriterThreadBatch | 'close') => {
  if (batch === 'close') {
    void Promise.all(writing)
      .then(() => store.close())
      .finally(() => parentPort!.close());
    return;
  }
  // Answered either way, so `written` never rejects.
  const written = sink.insertRequests(batch.rows.map(wireToRow)).then(
    () => parentPort!.postMessage({ id: batch.id } satisfies WriterThreadAnswer),
    // The driver's message only: pg's errors name the statement's problem, never bound values or the password.
    (error: unknown) => parentPort!.postMessage({ id: batch.id, error: error instanceof Error ? error.message : String(error) } satisfies WriterThreadAnswer),
  );
  writing.add(written);
  void written.finally(() => writing.delete(written));
});
