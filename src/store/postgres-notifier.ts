import pg from 'pg';
import { ChangeListeners, decodeChange, encodeChange } from './change-events.js';
import type { ChangeEvent, ChangeNotifier } from './types.js';

export interface PostgresNotifierOptions {
  readonly connectionString: string;
  /** The LISTEN/NOTIFY channel (default `stellwerk_changes`); letters, digits and `_`. */
  readonly channel?: string;
  /** Reconnect delays of the listening connection: from min, doubled, up to max (default 100 ms … 5 s). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Connection errors and listener exceptions, for a log line. */
  readonly onError?: (error: unknown) => void;
}

export const DEFAULT_POSTGRES_CHANNEL = 'stellwerk_changes';

/**
 * Change notifications through Postgres LISTEN/NOTIFY. One dedicated connection listens (a
 * pooled one could be handed to another query and lose the LISTEN); when it drops, it is
 * reopened with backoff and the resync listeners are told that events may have been missed.
 * Publishing goes through a separate one-connection pool. Every listener hears every event,
 * including those its own replica published.
 */
export class PostgresChangeNotifier implements ChangeNotifier {
  readonly channel: string;
  readonly #options: PostgresNotifierOptions;
  readonly #listeners: ChangeListeners;
  readonly #publisher: pg.Pool;
  #client: pg.Client | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #reconnectDelay: number;
  #closed = false;

  constructor(options: PostgresNotifierOptions) {
    this.channel = options.channel ?? DEFAULT_POSTGRES_CHANNEL;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.channel)) throw new Error(`invalid Postgres channel name "${this.channel}"`);
    this.#options = options;
    this.#listeners = new ChangeListeners(options.onError);
    this.#reconnectDelay = options.reconnectMinMs ?? 100;
    this.#publisher = new pg.Pool({ connectionString: options.connectionString, max: 1, application_name: 'stellwerk-notify' });
    this.#publisher.on('error', (error) => options.onError?.(error));
  }

  /** Opens the listening connection; resolves once LISTEN is in effect. */
  async start(): Promise<void> {
    this.#client = await this.#listen();
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.#client !== null;
  }

  async publish(event: ChangeEvent): Promise<void> {
    if (this.#closed) throw new Error('change notifier is closed');
    await this.#publisher.query('SELECT pg_notify($1, $2)', [this.channel, encodeChange(event)]);
  }

  subscribe(listener: (event: ChangeEvent) => void): void {
    this.#listeners.subscribe(listener);
  }

  onResync(listener: () => void): void {
    this.#listeners.onResync(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = null;
    await Promise.allSettled([client?.end(), this.#publisher.end()]);
  }

  async #listen(): Promise<pg.Client> {
    // keepAlive: a silently dead connection (a network cut) is noticed and reopened.
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: 'stellwerk-notify',
      keepAlive: true,
    });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || message.payload === undefined) return;
      const event = decodeChange(message.payload);
      if (event !== null) this.#listeners.emit(event);
    });
    client.on('error', (error) => {
      this.#options.onError?.(error);
      this.#lost(client);
    });
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== null) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, this.#options.reconnectMaxMs ?? 5_000);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#listen().then(
        (client) => {
          if (this.#closed) {
            client.end().catch(() => undefined);
            return;
          }
          this.#client = client;
          this.#reconnectDelay = this.#options.reconnectMinMs ?? 100;
          this.#listeners.resync();
        },
        (error: unknown) => {
          this.#options.onError?.(error);
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#reconnectTimer.unref();
  }
}
