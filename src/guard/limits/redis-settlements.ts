import { CallsInFlight } from './calls-in-flight.js';

/** One reservation's settlement, as the settle script takes it (keys already prefixed). */
export interface Settlement {
  readonly id: string;
  /** The tpm and budget counters it was charged to, each with its correction in `deltas`. */
  readonly counters: readonly string[];
  readonly deltas: readonly string[];
  /** The max_parallel sets it holds a slot in. */
  readonly parallel: readonly string[];
}

/** Sends one settle script call: KEYS and ARGV as SETTLE_LUA takes them (src/guard/limits/redis-scripts.ts). */
export type SendSettlements = (keys: string[], args: string[]) => Promise<unknown>;

export interface SettlementBatchOptions {
  /** The `open` reservations set, the script's first key. */
  readonly openKey: string;
  readonly send: SendSettlements;
  /** The longest a settlement waits for company when no admission comes to take it along. */
  readonly delayMs: number;
  /** A batch this large is sent at once. */
  readonly maxBatch: number;
}

interface Waiting {
  readonly settlement: Settlement;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Settlements of a replica go to Redis together: one script call for all that are waiting,
 * sent right before the replica's next admission (ioredis pipelines both into one write, and
 * Redis runs them in order, so that admission already sees the freed slots and corrected
 * counters), or after `delayMs` when no admission comes, or at once when `maxBatch` are waiting.
 * Under load a request thus costs one round trip to Redis instead of two, and Redis runs one
 * script for many settlements.
 */
export class SettlementBatch {
  readonly #options: SettlementBatchOptions;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #calls = new CallsInFlight();

  constructor(options: SettlementBatchOptions) {
    this.#options = options;
  }

  /** Resolves when the batch that carries it was answered; rejects when that call failed. */
  add(settlement: Settlement): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ settlement, resolve, reject });
      if (this.#waiting.length >= this.#options.maxBatch) this.send();
      else if (this.#timer === null) {
        this.#timer = setTimeout(() => this.send(), this.#options.delayMs);
        this.#timer.unref();
      }
    });
  }

  /** Sends what is waiting now (nothing when nothing is); the caller's next command follows it on the wire. */
  send(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    const { keys, args } = settleCall(this.#options.openKey, batch);
    this.#calls.make(
      () => this.#options.send(keys, args),
      () => {
        for (const waiting of batch) waiting.resolve();
      },
      (error: unknown) => {
        for (const waiting of batch) waiting.reject(error);
      },
    );
  }

  /** Sends what is waiting and waits until every call made so far was answered (or failed). */
  async drain(): Promise<void> {
    this.send();
    await this.#calls.settled();
  }
}

/**
 * KEYS: the open set, then per settlement its counters and its parallel sets. ARGV: the number
 * of settlements, then per settlement its id, how many counters, how many parallel sets, and
 * the counters' deltas.
 */
function settleCall(openKey: string, batch: readonly { readonly settlement: Settlement }[]): { keys: string[]; args: string[] } {
  const keys = [openKey];
  const args = [String(batch.length)];
  for (const { settlement } of batch) {
    keys.push(...settlement.counters, ...settlement.parallel);
    args.push(settlement.id, String(settlement.counters.length), String(settlement.parallel.length), ...settlement.deltas);
  }
  return { keys, args };
}
