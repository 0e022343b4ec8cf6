import { InProcessChangeNotifier } from './in-process-notifier.js';
import { PostgresChangeNotifier } from './postgres-notifier.js';
import { RedisChangeNotifier } from './redis-notifier.js';
import { SqlGovernanceStore } from './sql-store.js';
import type { ChangeNotifier, GovernanceStore } from './types.js';

export interface NotifierOptions {
  /** REDIS_URL: when given, Redis pub/sub carries the notifications. */
  readonly redisUrl?: string | null;
  /** Prefix of Redis keys and channels (governance.redis_prefix); the channel is `<prefix>changes`. Default `stellwerk:`. */
  readonly redisPrefix?: string;
  /** The store: on Postgres (and without Redis) notifications use its LISTEN/NOTIFY. */
  readonly store?: GovernanceStore | null;
  /** The Postgres URL, if the store is not a SqlGovernanceStore that knows its own. */
  readonly postgresUrl?: string | null;
  /** Overrides the channel name (defaults: `<redisPrefix>changes` on Redis, `stellwerk_changes` on Postgres). */
  readonly channel?: string;
  /** Connection errors and listener exceptions. */
  readonly onError?: (error: unknown) => void;
  /** Where connection errors go as warnings when there is no onError. */
  readonly logger?: { warn(details: object, message: string): void };
}

export type NotifierKind = 'redis' | 'postgres' | 'in-process';

/** Redis when a REDIS_URL is given, else Postgres when the store is Postgres, else in-process. */
export function pickNotifier(options: NotifierOptions): NotifierKind {
  if (options.redisUrl) return 'redis';
  if (options.store?.kind === 'postgres') return 'postgres';
  return 'in-process';
}

/** Builds the notifier pickNotifier names and resolves once it receives. */
export async function createNotifier(options: NotifierOptions): Promise<ChangeNotifier> {
  const logger = options.logger;
  const onError =
    options.onError ??
    (logger ? (error: unknown) => logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'change notifications: connection problem') : undefined);
  switch (pickNotifier(options)) {
    case 'redis': {
      const channel = options.channel ?? `${options.redisPrefix ?? 'stellwerk:'}changes`;
      return started(new RedisChangeNotifier({ url: options.redisUrl!, channel, onError }));
    }
    case 'postgres': {
      const store = options.store;
      const connectionString = options.postgresUrl ?? (store instanceof SqlGovernanceStore ? store.connectionString : null);
      if (!connectionString) throw new Error('change notifications: the Postgres store did not say its connection string');
      const channel = options.channel ?? undefined;
      return started(new PostgresChangeNotifier({ connectionString, onError, ...(channel !== undefined ? { channel } : {}) }));
    }
    case 'in-process':
      return new InProcessChangeNotifier({ onError });
  }
}

async function started<T extends RedisChangeNotifier | PostgresChangeNotifier>(notifier: T): Promise<T> {
  try {
    await notifier.start();
    return notifier;
  } catch (error) {
    await notifier.close();
    throw error;
  }
}
