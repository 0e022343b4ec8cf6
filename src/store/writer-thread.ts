import { Worker } from 'node:worker_threads';
import type { ThreadPriority } from './thread-priority.js';
import { rowToWire, type RowWire } from './row-wire.js';
import type { RequestRow } from './types.js';
import { mapPacked } from '../core/packed.js';

/** A batch of rows as a writer thread's entry module is sent it (the only other message is `'close'`). */
export interface WriterThreadBatch {
  readonly id: number;
  /** Rows in their wire form (row-wire.ts). */
  readonly rows: readonly RowWire[];
}

/**
 * A writer's young generation, in MB. Its own, so that a larger one given to the process for the
 * event loop (`npm start`'s --max-semi-space-size) does not multiply by the writer threads: a
 * batch's objects die within the batch, and 16 MB hold several batches (measured: no more CPU on
 * the thread than with V8's default, and tens of MB less memory with two writer threads).
 */
const WRITER_LIMITS = { maxYoungGenerationSizeMb: 16 };

/** What every writer thread's entry module is given besides its own data. */
export interface WriterThreadBase {
  /** `background`: the entry lowers its thread first thing (lowerThisThread). */
  readonly priority: ThreadPriority;
}

export interface WriterThreadOptions {
  /** How long after a thread stopped the next one may start (default 1,000 ms): one that dies at once is not restarted in a loop. */
  readonly restartDelayMs?: number;
  /** Default `normal`. */
  readonly priority?: ThreadPriority;
  /** Start the thread at the first batch rather than now (for a thread that may never be needed). */
  readonly lazy?: boolean;
  /**
   * End the thread when it has had no batch for this long, giving its memory back; the next
   * batch starts a new one. For a thread needed only now and then. Default: never.
   */
  readonly idleEndMs?: number;
}

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
 * `{id}` or `{id, error}` and closes its connection on `'close'`. A thread that dies (a crash, a
 * native fault) is replaced at the first batch after `restartDelayMs`; its batches in flight fail and
 * are retried by the writer, and inserts are idempotent, so none is lost or written twice.
 */
export class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /**
   * Why the thread is gone. Batches fail at once (the writer keeps and retries them) rather than
   * wait for ever, until a new thread is started: at the first batch after restartDelayMs.
   */
  private stopped: { readonly error: Error; readonly at: number } | null = null;
  private closing = false;
  private readonly restartDelayMs: number;
  private readonly idleEndMs: number | null;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly workerData: object;

  constructor(
    private readonly entry: string,
    workerData: object,
    options: WriterThreadOptions = {},
  ) {
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
    this.idleEndMs = options.idleEndMs ?? null;
    this.workerData = { ...workerData, priority: options.priority ?? 'normal' } satisfies WriterThreadBase;
    if (options.lazy !== true) this.worker = this.start();
  }

  /** Whether the thread has been started (a lazy one starts at its first batch). */
  get started(): boolean {
    return this.worker !== null;
  }

  insertRequests(rows: readonly RequestRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.stopped !== null) {
      if (this.closing || Date.now() - this.stopped.at < this.restartDelayMs) return Promise.reject(this.stopped.error);
      this.stopped = null;
      this.worker = null;
    }
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    const batch: WriterThreadBatch = { id: this.nextId++, rows: mapPacked(rows, rowToWire) };
    const worker = (this.worker ??= this.start());
    return new Promise((resolve, reject) => {
      this.pending.set(batch.id, { resolve, reject });
      try {
        worker.postMessage(batch);
      } catch (error) {
        // A value that cannot be cloned: this batch fails (and is retried), nothing waits for it.
        this.pending.delete(batch.id);
        reject(error as Error);
      }
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (this.stopped !== null || worker === null) return;
    // Unref'd so that it never holds the process open; while closing, it must.
    worker.ref();
    worker.postMessage('close');
    await new Promise((resolve) => worker.once('exit', resolve));
  }

  private start(): Worker {
    const typescript = import.meta.url.endsWith('.ts');
    const url = new URL(`./${this.entry}.${typescript ? 'ts' : 'js'}`, import.meta.url);
    // The built code runs as plain JS. Under tsx (tests) the thread first registers tsx's loader
    // and then imports the TypeScript entry (Node 20 does not apply `--import tsx` in execArgv
    // to a worker's own entry file).
    const worker = typescript
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, {
          eval: true,
          workerData: this.workerData,
          resourceLimits: WRITER_LIMITS,
        })
      : new Worker(url, { workerData: this.workerData, resourceLimits: WRITER_LIMITS });
    worker.unref();
    worker.on('message', (message: WriterThreadAnswer) => {
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.error === undefined) waiter.resolve();
      else waiter.reject(new Error(message.error));
      if (this.pending.size === 0 && this.idleEndMs !== null && this.worker === worker) {
        this.idleTimer = setTimeout(() => this.endIdle(worker), this.idleEndMs);
        this.idleTimer.unref();
      }
    });
    // Only the current thread's end counts: a replaced one's late events must not fail its successor.
    worker.on('error', (error) => this.worker === worker && this.failAll(error));
    worker.on('exit', () => this.worker === worker && this.failAll(new Error('the request-log writer thread stopped')));
    return worker;
  }

  /** Ends a thread that has had no batch for idleEndMs; the next batch starts a new one. */
  private endIdle(worker: Worker): void {
    this.idleTimer = null;
    if (this.worker !== worker || this.pending.size > 0 || this.closing) return;
    // No longer the current thread: its exit fails nothing, and a batch from now on starts another.
    this.worker = null;
    worker.postMessage('close');
  }

  /** The thread is gone: every batch it held fails (and is retried by the writer). */
  private failAll(error: Error): void {
    this.stopped ??= { error, at: Date.now() };
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

