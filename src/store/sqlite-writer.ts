import { Worker } from 'node:worker_threads';
import type { AppendOptions } from '../audit/chain.js';
import type { SqliteWriterData } from './sqlite-writer-worker.js';
import type { RequestRow } from './types.js';

export interface SqliteWorkerSinkOptions {
  readonly busyTimeoutMs?: number;
  /**
   * Append each row's audit entry in the same transaction as the row (docs/audit.md); null or
   * absent: the audit log is off. The secret in it goes to the thread and nowhere else.
   */
  readonly audit?: AppendOptions | null;
}

/**
 * Writes request-log batches, and the requests' audit entries with them, to a SQLite file from a
 * worker thread (see sqlite-writer-worker.ts for why), for the RequestWriter. The same table,
 * columns and idempotent insert as the store's own insertRequests, and the same chain as
 * AuditStore. The main thread only hands the rows over (a structured clone of plain objects);
 * converting them to columns and chaining their entries happen in the thread.
 */
export class SqliteWorkerSink {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /** Why the thread is gone; later batches fail at once (and are retried by the writer) rather than wait for ever. */
  private stopped: Error | null = null;

  constructor(path: string, options: SqliteWorkerSinkOptions = {}) {
    const typescript = import.meta.url.endsWith('.ts');
    const entry = new URL(`./sqlite-writer-worker.${typescript ? 'ts' : 'js'}`, import.meta.url);
    const workerData: SqliteWriterData = { path, busyTimeoutMs: options.busyTimeoutMs ?? 5_000, audit: options.audit ?? null };
    // The built code runs as plain JS. Under tsx (tests) the thread first registers tsx's loader
    // and then imports the TypeScript entry (Node 20 does not apply `--import tsx` in execArgv
    // to a worker's own entry file).
    this.worker = typescript
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
          eval: true,
          workerData,
        })
      : new Worker(entry, { workerData });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; error?: string }) => {
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.error === undefined) waiter.resolve();
      else waiter.reject(new Error(message.error));
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', () => this.failAll(new Error('the request-log writer thread stopped')));
  }

  insertRequests(rows: readonly RequestRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.stopped !== null) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, rows });
    });
  }

  async close(): Promise<void> {
    // Unref'd so that it never holds the process open; while closing, it must.
    this.worker.ref();
    this.worker.postMessage('close');
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }

  private failAll(error: Error): void {
    this.stopped ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
