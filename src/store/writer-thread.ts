import { Worker } from 'node:worker_threads';
import type { RequestRow } from './types.js';

/** What a writer thread's entry module answers for each batch (see sqlite-writer-worker.ts). */
export interface WriterThreadAnswer {
  readonly id: number;
  /** The store's message when the batch failed; never rows or secrets. */
  readonly error?: string;
}

/**
 * A worker thread that writes request-log batches for the RequestWriter: the main thread only
 * hands the rows over (a structured clone of plain objects); converting them to columns, chaining
 * their audit entries and the database's own work happen in the thread, so a batch never stalls
 * the requests in flight. `entry` names the thread's module in this folder
 * (`sqlite-writer-worker`, `postgres-writer-worker`); it answers each `{id, rows}` with
 * `{id}` or `{id, error}` and closes its connection on `'close'`.
 */
export class WriterThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /** Why the thread is gone; later batches fail at once (and are retried by the writer) rather than wait for ever. */
  private stopped: Error | null = null;

  constructor(entry: string, workerData: unknown) {
    const typescript = import.meta.url.endsWith('.ts');
    const url = new URL(`./${entry}.${typescript ? 'ts' : 'js'}`, import.meta.url);
    // The built code runs as plain JS. Under tsx (tests) the thread first registers tsx's loader
    // and then imports the TypeScript entry (Node 20 does not apply `--import tsx` in execArgv
    // to a worker's own entry file).
    this.worker = typescript
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, {
          eval: true,
          workerData,
        })
      : new Worker(url, { workerData });
    this.worker.unref();
    this.worker.on('message', (message: WriterThreadAnswer) => {
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
