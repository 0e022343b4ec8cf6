import type { GovernanceStore, RequestRow } from './types.js';

export interface RequestWriterOptions {
  /** Rows per write; a full batch is written at once (default 500). */
  readonly batchSize?: number;
  /** The longest a row waits before it is written (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Rows held at most, waiting or being retried; beyond it rows are dropped and counted (default 100,000). */
  readonly maxQueue?: number;
  /** First retry delay after a failed write, doubled per failure (default 200 ms). */
  readonly retryBaseMs?: number;
  /** Longest retry delay (default 30,000 ms; 1,000 ms while a flush() waits). */
  readonly retryMaxMs?: number;
  /** Rows that were not kept: the queue was full, the writer was closed, or close() gave up on them. For a metric. */
  readonly onDrop?: (count: number) => void;
  /** A failed write; the batch is kept and retried. For a log line. */
  readonly onError?: (error: unknown, attempt: number) => void;
  /**
   * A second sink for when the first falls behind: while more than `catchUpAbove` rows wait (the
   * batch about to be written included), batches go here instead. For a first sink that runs at
   * background priority (thread-priority.ts) and a second at normal priority, so that the log
   * yields the CPU to requests but never lags by more than that many rows.
   */
  readonly catchUp?: Sink;
  /** Default 2,048 rows. */
  readonly catchUpAbove?: number;
  /**
   * Also to the catch-up sink: a batch whose oldest row has waited longer than this (ms) when it
   * is written — the first sink was starved of CPU for its last batch, or the batch was retried.
   * Bounds the log's lag where few rows come (a queue that never reaches catchUpAbove) on a host
   * whose cores are busy with other work. Default: no age limit.
   */
  readonly catchUpAfterMs?: number;
  /** Rows of a batch given to the catch-up sink. For a metric. */
  readonly onCatchUp?: (rows: number) => void;
}

type Sink = Pick<GovernanceStore, 'insertRequests'>;

interface Batch {
  readonly rows: RequestRow[];
  /** When its first row arrived (epoch ms). */
  readonly since: number;
}

const FLUSH_RETRY_MAX_MS = 1_000;

/**
 * The request log's way to the store, off the request path. `enqueue` only appends to memory.
 * One loop writes batches in arrival order: a full batch at once, the rest when the oldest row
 * has waited flushIntervalMs. A failed batch stays at the head of the queue and is retried with
 * backoff; inserts are idempotent on the row id, so a write that landed but reported failure is
 * harmless. The queue is bounded, and what does not fit is counted, never lost silently.
 * The sink may write more than the rows in a batch's transaction: with the audit log on, the
 * rows' audit entries go with them (AuditStore.insertRequests, or the SQLite writer thread), so
 * the request path itself never does audit work.
 */
export class RequestWriter {
  readonly #store: Sink;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueue: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #onDrop: ((count: number) => void) | undefined;
  readonly #onError: ((error: unknown, attempt: number) => void) | undefined;
  readonly #catchUp: Sink | undefined;
  readonly #catchUpAbove: number;
  readonly #catchUpAfterMs: number;
  readonly #onCatchUp: ((rows: number) => void) | undefined;

  /** Batches in arrival order, each at most batchSize rows; the head one may be in flight. */
  #batches: Batch[] = [];
  #size = 0;
  /** The batch being written; sealed, so that later rows go into a new batch. */
  #inFlight: Batch | null = null;
  #loop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #wakeRetry: (() => void) | null = null;
  #closed = false;

  /** Rows are numbered by arrival; rows up to #dueSeq are written even if their batch is not full. */
  #accepted = 0;
  #dueSeq = 0;
  #written = 0;
  /** Accepted rows that close() gave up on. */
  #abandoned = 0;
  #failed = 0;
  #dropped = 0;
  #drainWaiters: { readonly target: number; readonly resolve: () => void }[] = [];

  constructor(store: Sink, options: RequestWriterOptions = {}) {
    this.#store = store;
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    this.#intervalMs = Math.max(0, options.flushIntervalMs ?? 1_000);
    this.#maxQueue = Math.max(1, Math.floor(options.maxQueue ?? 100_000));
    this.#retryBaseMs = Math.max(1, options.retryBaseMs ?? 200);
    this.#retryMaxMs = Math.max(this.#retryBaseMs, options.retryMaxMs ?? 30_000);
    this.#onDrop = options.onDrop;
    this.#onError = options.onError;
    this.#catchUp = options.catchUp;
    this.#catchUpAbove = Math.max(0, options.catchUpAbove ?? 2_048);
    this.#catchUpAfterMs = Math.max(0, options.catchUpAfterMs ?? Number.POSITIVE_INFINITY);
    this.#onCatchUp = options.onCatchUp;
  }

  /** Rows waiting to be written, including a batch in flight or being retried. */
  get queued(): number {
    return this.#size;
  }

  /** Rows written since start. */
  get written(): number {
    return this.#written;
  }

  /** Failed write attempts since start (each batch is retried until written). */
  get failed(): number {
    return this.#failed;
  }

  /** Rows dropped since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues a row; synchronous and O(1). False if it was dropped (queue full or writer closed). */
  enqueue(row: RequestRow): boolean {
    if (this.#closed || this.#size >= this.#maxQueue) {
      this.#drop(1);
      return false;
    }
    let tail = this.#batches[this.#batches.length - 1];
    if (tail === undefined || tail.rows.length >= this.#batchSize || tail === this.#inFlight) {
      tail = { rows: [], since: Date.now() };
      this.#batches.push(tail);
    }
    tail.rows.push(row);
    this.#size += 1;
    this.#accepted += 1;
    if (this.#loop === null) {
      if (tail.rows.length >= this.#batchSize) this.#start();
      else this.#armTimer();
    }
    return true;
  }

  /**
   * Writes every row queued so far, retrying a failed batch now rather than after its backoff.
   * True when they are all written; false if `timeoutMs` passed first (the rows stay queued).
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const target = this.#accepted;
    if (this.#written + this.#abandoned >= target) return true;
    this.#dueSeq = Math.max(this.#dueSeq, target);
    const drained = new Promise<boolean>((resolve) => this.#drainWaiters.push({ target, resolve: () => resolve(true) }));
    this.#start();
    this.#wakeRetry?.();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * For shutdown: refuses new rows (counted as dropped), flushes, and counts what could not be
   * written within `timeoutMs` as dropped. True if everything was written.
   */
  async close(timeoutMs = 10_000): Promise<boolean> {
    this.#closed = true;
    const drained = await this.flush(timeoutMs);
    if (this.#size > 0) {
      const lost = this.#size;
      this.#batches = [];
      this.#size = 0;
      this.#abandoned += lost;
      this.#drop(lost);
      this.#resolveDrained();
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#wakeRetry?.();
    return drained;
  }

  #drop(count: number): void {
    this.#dropped += count;
    try {
      this.#onDrop?.(count);
    } catch {
      // A metric hook must not break the request that triggered it.
    }
  }

  /** A timer for the oldest queued row's deadline, unless one is set. */
  #armTimer(): void {
    const head = this.#batches[0];
    if (this.#timer !== null || head === undefined || this.#closed) return;
    const delay = Math.max(0, head.since + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // Everything queued now goes out with the overdue rows: fewer, fuller writes.
      this.#dueSeq = Math.max(this.#dueSeq, this.#accepted);
      this.#start();
    }, delay);
    this.#timer.unref();
  }

  #start(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#loop !== null || this.#size === 0) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = null;
      // Rows may have become due between the loop's last look and now (a flush, a full batch).
      const head = this.#batches[0];
      if (head !== undefined && this.#headIsDue(head)) this.#start();
      else this.#armTimer();
    });
  }

  /** Whether the head batch is to be written now: full, or holding rows that are due. */
  #headIsDue(head: Batch): boolean {
    return head.rows.length >= this.#batchSize || head !== this.#batches[this.#batches.length - 1] || this.#written + this.#abandoned < this.#dueSeq;
  }

  /** The one writer loop; never runs twice at once (see #start). */
  async #run(): Promise<void> {
    let attempt = 0;
    for (;;) {
      const head = this.#batches[0];
      if (head === undefined || !this.#headIsDue(head)) return;
      this.#inFlight = head;
      try {
        await this.#sinkFor(head).insertRequests(head.rows);
      } catch (error) {
        this.#inFlight = null;
        attempt += 1;
        this.#failed += 1;
        try {
          this.#onError?.(error, attempt);
        } catch {
          // A log hook must not stop the loop.
        }
        if (this.#batches[0] !== head) return; // close() gave up on the queue meanwhile
        await this.#sleep(this.#backoff(attempt));
        if (this.#batches[0] !== head) return;
        continue;
      }
      this.#inFlight = null;
      attempt = 0;
      // After close() gave up on it, a batch that landed late was already counted as dropped.
      if (this.#batches[0] !== head) return;
      this.#batches.shift();
      this.#size -= head.rows.length;
      this.#written += head.rows.length;
      this.#resolveDrained();
    }
  }

  /**
   * The catch-up sink while the queue is longer than catchUpAbove or the batch older than
   * catchUpAfterMs, else the store. (A flush does not change lanes: a background writer gets any
   * core that goes idle even for a moment, and starting a thread to write the last few rows
   * would cost more than it saves.) Decided only when a batch is taken, never for one in flight:
   * a batch is never handed from one sink to the other while the first may hold its transaction.
   */
  #sinkFor(head: Batch): Sink {
    if (this.#catchUp === undefined) return this.#store;
    if (this.#size <= this.#catchUpAbove && Date.now() - head.since <= this.#catchUpAfterMs) return this.#store;
    try {
      this.#onCatchUp?.(head.rows.length);
    } catch {
      // A metric hook must not stop the loop.
    }
    return this.#catchUp;
  }

  #backoff(attempt: number): number {
    const max = this.#drainWaiters.length > 0 ? Math.min(this.#retryMaxMs, FLUSH_RETRY_MAX_MS) : this.#retryMaxMs;
    const ceiling = Math.min(max, this.#retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    // Jitter, so that replicas that lost the same database do not retry in step.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#wakeRetry = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.#wakeRetry = null;
    });
  }

  #resolveDrained(): void {
    const settled = this.#written + this.#abandoned;
    const waiting = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiting) {
      if (settled >= waiter.target) waiter.resolve();
      else this.#drainWaiters.push(waiter);
    }
  }
}
