export interface BatchQueueOptions<T> {
  /** Writes one batch; a rejection keeps the batch and retries it with backoff. Must be idempotent. */
  readonly write: (items: readonly T[]) => Promise<void>;
  /** Items per write (default 500). */
  readonly batchSize?: number;
  /** The longest an item waits before it is written (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Items held at most; beyond it they are dropped and counted (default 100,000). */
  readonly maxQueue?: number;
  readonly onDrop?: (count: number) => void;
  readonly onError?: (error: unknown, attempt: number) => void;
}

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

/**
 * The audit log's and the body log's way to the store, off the request path: `enqueue` only
 * appends to memory; one loop writes batches in order, a full batch at once, the rest when the
 * oldest item has waited flushIntervalMs; a failed batch is retried with backoff. The request
 * log has its own, more elaborate writer (src/store/request-writer.ts) tied to request rows;
 * this one is generic over the item and simpler, since its writes are idempotent on the item's
 * id and never reordered.
 */
export class BatchQueue<T> {
  readonly #write: (items: readonly T[]) => Promise<void>;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueue: number;
  readonly #onDrop: ((count: number) => void) | undefined;
  readonly #onError: ((error: unknown, attempt: number) => void) | undefined;
  #items: T[] = [];
  #loop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;
  #closed = false;
  #dropped = 0;

  constructor(options: BatchQueueOptions<T>) {
    this.#write = options.write;
    this.#batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
    this.#intervalMs = Math.max(0, options.flushIntervalMs ?? 1_000);
    this.#maxQueue = Math.max(1, Math.floor(options.maxQueue ?? 100_000));
    this.#onDrop = options.onDrop;
    this.#onError = options.onError;
  }

  get queued(): number {
    return this.#items.length;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Queues an item; synchronous. False if it was dropped (queue full or closed). */
  enqueue(item: T): boolean {
    if (this.#closed || this.#items.length >= this.#maxQueue) {
      this.#dropped++;
      this.#onDrop?.(1);
      return false;
    }
    this.#items.push(item);
    if (this.#items.length >= this.#batchSize) this.#start(false);
    else if (this.#timer === null && this.#loop === null) {
      this.#timer = setTimeout(() => this.#start(true), this.#intervalMs);
      this.#timer.unref();
    }
    return true;
  }

  /** Writes everything queued so far; false if `timeoutMs` passed first (the items stay queued). */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#items.length > 0 || this.#loop !== null) {
      if (Date.now() >= deadline) return false;
      this.#start(true);
      this.#wake?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#loop, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Refuses new items, writes what it can within `timeoutMs`, counts the rest as dropped. */
  async close(timeoutMs = 10_000): Promise<boolean> {
    this.#closed = true;
    const done = await this.flush(timeoutMs);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (!done) {
      const lost = this.#items.length;
      this.#items = [];
      this.#dropped += lost;
      if (lost > 0) this.#onDrop?.(lost);
      this.#wake?.();
    }
    return done;
  }

  #start(all: boolean): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#loop !== null || this.#items.length === 0) return;
    this.#loop = this.#run(all).finally(() => {
      this.#loop = null;
      if (this.#items.length >= this.#batchSize) this.#start(false);
      else if (this.#items.length > 0 && !this.#closed) {
        this.#timer = setTimeout(() => this.#start(true), this.#intervalMs);
        this.#timer.unref();
      }
    });
  }

  /** Writes full batches, and with `all` the partial one too. */
  async #run(all: boolean): Promise<void> {
    let attempt = 0;
    while (this.#items.length >= this.#batchSize || (all && this.#items.length > 0)) {
      const batch = this.#items.slice(0, this.#batchSize);
      try {
        await this.#write(batch);
      } catch (error) {
        attempt++;
        this.#onError?.(error, attempt);
        const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 20));
        await this.#sleep(ceiling / 2 + Math.random() * (ceiling / 2));
        // close() may have given up on the queue meanwhile.
        if (this.#items[0] !== batch[0]) return;
        continue;
      }
      attempt = 0;
      if (this.#items[0] === batch[0]) this.#items.splice(0, batch.length);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.#wake = null;
    });
  }
}
