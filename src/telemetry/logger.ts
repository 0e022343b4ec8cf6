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
/** The start of the second `secondText` belongs to, and that second's text up to the dot. */
let secondStart = -1;
let secondText = '';

/** "000" … "999": a millisecond's three digits. */
const MILLIS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));

/**
 * pino's ISO timestamp field, formatted once per millisecond, and within a second from that
 * second's text and the millisecond's digits: at thousands of lines per second most lines share
 * their millisecond with the one before, and most milliseconds their second, so Date#toISOString
 * (about 3 µs: V8 formats it through printf) runs once a second rather than once a millisecond.
 */
function isoTimeOncePerMs(): string {
  return isoTimeField(Date.now());
}

/** The `,"time":"…"` field for `now` (epoch ms), as `new Date(now).toISOString()` writes it. */
export function isoTimeField(now: number): string {
  if (now !== lastMs) {
    lastMs = now;
    const ms = now % 1000;
    const second = now - ms;
    if (second !== secondStart) {
      secondStart = second;
      const iso = new Date(second).toISOString();
      // "YYYY-MM-DDTHH:MM:SS.", or nothing when the year has more than four digits.
      secondText = iso.length === 24 ? iso.slice(0, 20) : '';
    }
    // Before 1970 the remainder is negative: those, and long years, take the long way.
    lastTime = secondText === '' || ms < 0 ? `,"time":"${new Date(now).toISOString()}"` : `,"time":"${secondText}${MILLIS[ms]!}Z"`;
  }
  return lastTime;
}

/**
 * Each write goes through libuv's thread pool (sonic-boom's asynchronous fs.write): it wakes a
 * pool thread and, when done, the event loop. At 8 KB per write the four pool threads took
 * 1.5–1.8 µs of CPU per non-streamed answer under load (per-thread schedstat), at 64 KB 0.4 µs.
 *
 * Lines are collected up to this many bytes before one write to the file descriptor …
 */
const BATCH_BYTES = 64 * 1024;
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
  const batcher = new LineBatcher(pino.destination({ dest: destination, sync: false, contentMode: 'buffer' }));
  const timer = setInterval(() => batcher.flushLines(), FLUSH_INTERVAL_MS).unref();
  process.once('exit', () => {
    clearInterval(timer);
    batcher.flushSync();
  });
  return pino(options, batcher);
}

type Sink = ReturnType<typeof pino.destination>;

/**
 * Copies each line's UTF-8 bytes into a buffer as it comes and hands the filled buffer to
 * sonic-boom (which owns the descriptor: async writes in order, EAGAIN retries, the synchronous
 * write at exit) in its buffer mode. Measured against the alternatives, per line of ~300 bytes:
 * sonic-boom's own `minLength` buffering appends each line to a pending string and measures it
 * with Buffer.byteLength on every write, flattening it each time; collecting the lines in an
 * array and joining them per batch (the way before this one) kept every line alive until its
 * batch was written — survivors for the young generation's collections — and then copied the
 * batch twice more (the join, and fs.write's conversion of the string to bytes). In a loop
 * writing request lines (yielding every 64) that took 1.1–1.9 µs a line, this 0.6 µs; in the
 * gateway under load the difference is below what its benchmark can resolve (callgrind: 403,500
 * instructions per answer either way). A line is now a young string that dies at once.
 */
class LineBatcher {
  #buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
  #used = 0;

  constructor(private readonly sink: Sink) {}

  write(line: string): boolean {
    // A UTF-16 code unit is at most 3 bytes of UTF-8; a line that might not fit goes after the batch.
    const most = line.length * 3;
    if (this.#used + most > this.#buffer.length) {
      this.flushLines();
      if (most > this.#buffer.length) {
        this.#hand(Buffer.from(line, 'utf8'));
        return true;
      }
    }
    this.#used += this.#buffer.write(line, this.#used);
    return true;
  }

  /** Hands the collected lines to the sink as one write. */
  flushLines(): void {
    if (this.#used === 0) return;
    const batch = this.#buffer.subarray(0, this.#used);
    // The sink keeps the bytes until they are written: the next lines go to a new buffer.
    this.#buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.#used = 0;
    this.#hand(batch);
  }

  #hand(bytes: Buffer): void {
    try {
      // Typed for strings; in buffer mode sonic-boom takes bytes (`contentMode: 'buffer'` above).
      this.sink.write(bytes as unknown as string);
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
  /** What pino would read from the logger for every line, read once: the logger is never re-bound (no child, no setBindings). */
  readonly #prefixes: Readonly<Record<number, string>>;
  readonly #time: () => string;
  readonly #bindings: string;
  readonly #stream: { write(line: string): void };
  readonly #end: string;

  constructor(logger: Logger) {
    this.#logger = logger;
    const fields = logger as unknown as Record<symbol, unknown>;
    const { lsCacheSym, timeSym, chindingsSym, streamSym, endSym } = pino.symbols;
    this.#prefixes = fields[lsCacheSym] as Record<number, string>;
    this.#time = fields[timeSym] as () => string;
    this.#bindings = fields[chindingsSym] as string;
    this.#stream = fields[streamSym] as { write(line: string): void };
    this.#end = fields[endSym] as string;
  }

  enabled(level: Level): boolean {
    return this.#logger.isLevelEnabled(level);
  }

  /** `fields`: `,"name":value` pairs, each value valid JSON; `msg` a JSON string literal. */
  write(level: Level, fields: string, msg: string): void {
    const prefix = this.#prefixes[this.#logger.levels.values[level]!]!;
    this.#stream.write(prefix + this.#time() + this.#bindings + fields + ',"msg":' + msg + this.#end);
  }
}
