import { EventEmitter } from 'node:events';
import { ChangeListeners } from './change-events.js';
import type { ChangeEvent, ChangeNotifier } from './types.js';

const EVENT = 'change';

/**
 * Change notifications within one process (SQLite, a single instance). Listeners are called
 * asynchronously, as remote notifiers call them, so that a publisher never runs them inside its
 * own call. Notifiers built on the same emitter hear each other.
 */
export class InProcessChangeNotifier implements ChangeNotifier {
  readonly #emitter: EventEmitter;
  readonly #listeners: ChangeListeners;
  readonly #forward = (event: ChangeEvent): void => {
    setImmediate(() => this.#listeners.emit(event));
  };
  #closed = false;

  constructor(options: { emitter?: EventEmitter; onError?: (error: unknown) => void } = {}) {
    this.#emitter = options.emitter ?? new EventEmitter();
    this.#emitter.setMaxListeners(0);
    this.#listeners = new ChangeListeners(options.onError);
    this.#emitter.on(EVENT, this.#forward);
  }

  async publish(event: ChangeEvent): Promise<void> {
    if (this.#closed) throw new Error('change notifier is closed');
    this.#emitter.emit(EVENT, { kind: event.kind, id: event.id });
  }

  subscribe(listener: (event: ChangeEvent) => void): void {
    this.#listeners.subscribe(listener);
  }

  /** Nothing is ever missed in-process; listeners are kept but never called. */
  onResync(listener: () => void): void {
    this.#listeners.onResync(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#emitter.off(EVENT, this.#forward);
  }
}
