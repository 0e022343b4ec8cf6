import { Worker } from 'node:worker_threads';
import { requestToRow } from './rows.js';
import type { RequestRow } from './types.js';

/**
 * Writes request-log batches to a SQLite file from a worker thread (see sqlite-writer-worker.ts
 * for why), for the RequestWriter. The same table, columns and idempotent insert as the store's
 * own insertRequests.
 */
export class SqliteWorkerSink {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(path: string, busyTimeoutMs = 5_000) {
    const entry = new URL(`./sqlite-writer-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
    // Under tsx (tests) the worker needs the same loader; the built code runs as plain JS.
    const execArgv = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.worker = new Worker(entry, { workerData: { path, busyTimeoutMs }, execArgv });
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
    const values = rows.map((row) => requestToRow(row, 'sqlite') as Record<string, unknown>);
    const columns = Object.keys(values[0]!);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, columns, rows: values.map((row) => columns.map((column) => row[column] ?? null)) });
    });
  }

  async close(): Promise<void> {
    // Unref'd so that it never holds the process open; while closing, it must.
    this.worker.ref();
    this.worker.postMessage('close');
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
