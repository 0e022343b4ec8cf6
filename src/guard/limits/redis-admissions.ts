import { CallsInFlight } from './calls-in-flight.js';

/**
 * Sends one admit-batch script call: ARGV as ADMIT_BATCH_LUA takes it (src/guard/limits/redis-scripts.ts).
 * Resolves with one answer per admission, in order: the single admission's JSON, or `{"error":…}`.
 */
export type SendAdmissions = (args: string[]) => Promise<string[]>;

export interface AdmissionBatchOptions {
  readonly send: SendAdmissions;
  /** Runs right before a batch is sent (the replica's waiting settlements go first, on the same connection). */
  readonly beforeSend: () => void;
  /** A batch this large is sent at once. */
  readonly maxBatch: number;
}

interface Waiting {
  readonly args: readonly string[];
  readonly resolve: (answer: string) => void;
  readonly reject: (error: unknown) => void;
}

/** Thrown for one admission of a batch that Redis could not run (the others were answered). */
export class AdmissionScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdmissionScriptError';
  }
}

/**
 * The admissions a replica asks for in one turn of the event loop go to Redis as one script call.
 * Requests whose bodies arrived together reach their admission in the same turn; each used to be
 * its own command (ioredis builds, queues, writes and parses each, and Redis starts a script for
 * each), which cost a replica more CPU per request than any other part of the governance. The
 * batch goes after the turn's I/O callbacks (setImmediate), or at once when `maxBatch` are waiting.
 *
 * Exactness is unchanged: the script admits one after the other, each seeing the ones before it,
 * as separate calls would; an admission that raises an error in Redis fails alone, as in a call of
 * its own (the script runs each in `pcall`), and a call that fails as a whole (Redis unreachable,
 * timeout) fails each of its admissions, which then go the way of an admission without Redis.
 */
export class AdmissionBatch {
  readonly #options: AdmissionBatchOptions;
  #waiting: Waiting[] = [];
  #immediate: NodeJS.Immediate | null = null;
  readonly #calls = new CallsInFlight();

  constructor(options: AdmissionBatchOptions) {
    this.#options = options;
  }

  /** `args`: one admission's arguments, as the single-admission part of the script takes them. */
  add(args: readonly string[]): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#waiting.push({ args, resolve, reject });
      if (this.#waiting.length >= this.#options.maxBatch) this.send();
      else this.#immediate ??= setImmediate(() => this.send());
    });
  }

  /** Sends what is waiting now (nothing when nothing is). */
  send(): void {
    if (this.#immediate !== null) {
      clearImmediate(this.#immediate);
      this.#immediate = null;
    }
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#calls.make(
      () => {
        this.#options.beforeSend();
        return this.#options.send(batchArgs(batch));
      },
      (answers) => {
        for (let i = 0; i < batch.length; i++) {
          const answer = answers[i];
          if (typeof answer !== 'string') batch[i]!.reject(new AdmissionScriptError('the admit script gave no answer for this admission'));
          else if (answer.startsWith('{"error"')) batch[i]!.reject(new AdmissionScriptError(errorOf(answer)));
          else batch[i]!.resolve(answer);
        }
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

/** ARGV: the number of admissions, then per admission the number of its arguments and the arguments. */
function batchArgs(batch: readonly Waiting[]): string[] {
  const args = [String(batch.length)];
  for (const { args: own } of batch) {
    args.push(String(own.length));
    for (const arg of own) args.push(arg);
  }
  return args;
}

function errorOf(answer: string): string {
  try {
    return `the admit script failed: ${String((JSON.parse(answer) as { error?: unknown }).error)}`;
  } catch {
    return 'the admit script failed';
  }
}
