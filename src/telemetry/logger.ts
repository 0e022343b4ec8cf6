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

export function createLogger(level: LevelWithSilent, destination: NodeJS.WritableStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'stellwerk' },
      timestamp: isoTimeOncePerMs,
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination,
  );
}
