import { Redis } from 'ioredis';
import { ChangeListeners, decodeChange, encodeChange } from './change-events.js';
import type { ChangeEvent, ChangeNotifier } from './types.js';

export interface RedisNotifierOptions {
  readonly url: string;
  /** The pub/sub channel (default `stellwerk:changes`). Channels are server-wide, not per database. */
  readonly channel?: string;
  /** CLIENT SETNAME of the subscriber connection (default `stellwerk-notify`). */
  readonly connectionName?: string;
  /** Connection errors and listener exceptions, for a log line. */
  readonly onError?: (error: unknown) => void;
}

export const DEFAULT_REDIS_CHANNEL = 'stellwerk:changes';

/**
 * Change notifications through Redis pub/sub. A subscribed connection can run no other
 * command, so there are two: a dedicated subscriber and a publisher. ioredis reconnects both;
 * after the subscriber is back (and subscribed again), the resync listeners are told that
 * events may have been missed. Every listener hears every event, including its own replica's.
 */
export class RedisChangeNotifier implements ChangeNotifier {
  readonly channel: string;
  readonly #listeners: ChangeListeners;
  readonly #subscriber: Redis;
  readonly #publisher: Redis;
  readonly #onError: ((error: unknown) => void) | undefined;
  #readyBefore = false;
  #closed = false;

  constructor(options: RedisNotifierOptions) {
    this.channel = options.channel ?? DEFAULT_REDIS_CHANNEL;
    this.#onError = options.onError;
    this.#listeners = new ChangeListeners(options.onError);
    this.#subscriber = new Redis(options.url, { lazyConnect: true, connectionName: options.connectionName ?? 'stellwerk-notify' });
    this.#publisher = new Redis(options.url, { lazyConnect: true, connectionName: 'stellwerk-publish' });
    // Without listeners ioredis prints every connection error; they are reported here instead.
    this.#subscriber.on('error', (error: unknown) => this.#onError?.(error));
    this.#publisher.on('error', (error: unknown) => this.#onError?.(error));
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const event = decodeChange(message);
      if (event !== null) this.#listeners.emit(event);
    });
    this.#subscriber.on('ready', () => this.#ready());
  }

  /** Connects both connections; resolves once the subscription is in effect. */
  async start(): Promise<void> {
    await Promise.all([this.#subscriber.connect(), this.#publisher.connect()]);
    await this.#subscriber.subscribe(this.channel);
  }

  async publish(event: ChangeEvent): Promise<void> {
    if (this.#closed) throw new Error('change notifier is closed');
    await this.#publisher.publish(this.channel, encodeChange(event));
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
    await Promise.allSettled([this.#subscriber.quit(), this.#publisher.quit()]);
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
  }

  #ready(): void {
    if (!this.#readyBefore) {
      this.#readyBefore = true;
      return;
    }
    if (this.#closed) return;
    // ioredis resubscribes on its own; subscribing again (a no-op for Redis) tells us when it is in effect.
    this.#subscriber.subscribe(this.channel).then(
      () => this.#listeners.resync(),
      (error: unknown) => this.#onError?.(error),
    );
  }
}
