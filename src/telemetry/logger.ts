import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Request and response bodies are never logged; header and key fields are
 * redacted should one ever be passed in by mistake.
 */
export function createLogger(level: LevelWithSilent, destination: NodeJS.WritableStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'stellwerk' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', 'headers.authorization', 'headers["x-api-key"]', 'api_key', '*.api_key', 'master_key', '*.master_key'],
        censor: '[redacted]',
      },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination,
  );
}
