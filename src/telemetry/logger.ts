import { pino, type Level, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Request and response bodies are never logged, and no secret is ever
 * handed to the logger (tests read every log line for the keys they configured). There is no
 * redaction pass: on one line per request its cost was measurable, and it would only hide a
 * mistake that the tests are there to catch.
 */
let lastMs = -1;
let lastTime = '';

/**
 * pino's ISO timestamp, formatted once per millisecond: at thousands of lines per second most
 * lines share their millisecond with the one before, and Date#toISOString was a visible cost.
 */
function isoTimeOncePerMs(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * Each write goes through libuv's thread pool (sonic-boom's asynchronous fs.write): it wakes a
 * pool thread and, when done, the event loop. At 8 KB per write the four pool threads took
 * 1.5–1.8 µs of CPU per non-streamed answer under load (per-thread schedstat), at 64 KB 0.4 µs.
 *
 * Lines are collected up to this many characters before one write to the file descriptor …
 */
const BUFFER_CHARS = 64 * 1024;
/** … and never wait longer than this to be written. */
const FLUSH_INTERVAL_MS = 100;

/**
 * A logger writing JSON lines to `destination` (a file descriptor: stdout by default, or a stream).
 * On a file descriptor, lines are buffered and written in batches: one write per log line was a
 * visible share of the gateway's CPU at thousands of requests per second. A line waits at most
 * FLUSH_INTERVAL_MS; the buffer is written out synchronously when the process exits.
 */
export function createLogger(level: LevelWithSilent, destination: NodeJS.WritableStream | number = 1): Logger {
  const options = { level, base: { service: 'stellwerk' }, timestamp: isoTimeOncePerMs };
  if (typeof destination !== 'number') return pino(options, destination);
  const batcher = new LineBatcher(pino.destination({ dest: destination, sync: false }));
  const timer = setInterval(() => batcher.flushLines(), FLUSH_INTERVAL_MS).unref();
  process.once('exit', () => {
    clearInterval(timer);
    batcher.flushSync();
  });
  return pino(options, batcher);
}

type Sink = ReturnType<typeof pino.destination>;

/**
 * Collects lines in an array and hands them to sonic-boom (which owns the descriptor: async
 * writes in order, EAGAIN retries, the synchronous write at exit) joined, one string per batch.
 * Written here rather than using sonic-boom's own `minLength` buffering, which appends each line
 * to a pending string and measures it with Buffer.byteLength on every write: that flattens the
 * pending string each time, copying up to minLength bytes per line, and was the largest
 * allocation of a request. Here a line costs an array push; the copy happens once per batch.
 */
class LineBatcher {
  #lines: string[] = [];
  #chars = 0;

  constructor(private readonly sink: Sink) {}

  write(line: string): boolean {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= BUFFER_CHARS) this.flushLines();
    return true;
  }

  /** Hands the collected lines to the sink as one write. */
  flushLines(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines = [];
    this.#chars = 0;
    try {
      this.sink.write(text);
    } catch {
      // The sink was closed (the process is ending); nothing left to write to.
    }
  }

  /** pino's logger.flush(cb): everything collected so far, written, then `cb`. */
  flush(callback?: (error?: Error) => void): void {
    this.flushLines();
    try {
      this.sink.flush(callback);
    } catch (error) {
      callback?.(error as Error);
    }
  }

  flushSync(): void {
    this.flushLines();
    try {
      this.sink.flushSync();
    } catch {
      // Closed already, or a write is under way that sonic-boom finishes itself at exit.
    }
  }
}

/**
 * Writes lines whose fields are already JSON text, straight to the logger's destination, in the
 * shape pino writes (`{"level":30,"time":…` + the logger's bindings + the fields + `"msg":…}`).
 * For the one line every request writes: pino serialises a field object key by key through
 * generic code, which was a few microseconds of each request; the caller here appends its known
 * fields to a string.
 */
export class FieldLines {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  enabled(level: Level): boolean {
    return this.#logger.isLevelEnabled(level);
  }

  /** `fields`: `,"name":value` pairs, each value valid JSON; `msg` a JSON string literal. */
  write(level: Level, fields: string, msg: string): void {
    const logger = this.#logger as unknown as Record<symbol, unknown>;
    const { lsCacheSym, timeSym, chindingsSym, streamSym, endSym } = pino.symbols;
    const prefix = (logger[lsCacheSym] as Record<number, string>)[this.#logger.levels.values[level]!]!;
    const time = (logger[timeSym] as () => string)();
    const line = prefix + time + (logger[chindingsSym] as string) + fields + ',"msg":' + msg + (logger[endSym] as string);
    (logger[streamSym] as { write(line: string): void }).write(line);
  }
}
