import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Request and response bodies are never logged, and no secret is ever
 * handed to the logger (tests read every log line for the keys they configured). There is no
 * redaction pass: on one line per request its cost was measurable, and it would only hide a
 * mistake that the tests are there to catch.
 */
export function createLogger(level: LevelWithSilent, destination: NodeJS.WritableStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'stellwerk' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination,
  );
}
