import { pino, type Logger, type LevelWithSilent } from 'pino';

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

/** Lines are collected up to this many bytes before one write to the file descriptor … */
const BUFFER_BYTES = 8 * 1024;
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
  const sink = pino.destination({ dest: destination, sync: false, minLength: BUFFER_BYTES });
  const timer = setInterval(() => {
    try {
      sink.flush(); // does nothing while a write is under way
    } catch {
      clearInterval(timer); // the stream was closed
    }
  }, FLUSH_INTERVAL_MS).unref();
  return pino(options, sink);
}
