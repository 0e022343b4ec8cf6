import type { ChangeEvent } from './types.js';

/** The wire form of a change event on Redis and Postgres channels: `{"kind":"key","id":"…"}`. */
export function encodeChange(event: ChangeEvent): string {
  return JSON.stringify({ kind: event.kind, id: event.id });
}

/** Null for anything that is not a change event (another writer on the channel, a newer format). */
export function decodeChange(payload: string): ChangeEvent | null {
  try {
    const value = JSON.parse(payload) as { kind?: unknown; id?: unknown };
    if ((value.kind === 'key' || value.kind === 'team') && typeof value.id === 'string') return { kind: value.kind, id: value.id };
  } catch {
    // Not ours.
  }
  return null;
}

/** Subscribers of a notifier; one listener's exception never keeps the event from the others. */
export class ChangeListeners {
  readonly #changes: ((event: ChangeEvent) => void)[] = [];
  readonly #resyncs: (() => void)[] = [];

  constructor(private readonly onError?: (error: unknown) => void) {}

  subscribe(listener: (event: ChangeEvent) => void): void {
    this.#changes.push(listener);
  }

  onResync(listener: () => void): void {
    this.#resyncs.push(listener);
  }

  emit(event: ChangeEvent): void {
    for (const listener of this.#changes) this.#call(() => listener(event));
  }

  resync(): void {
    for (const listener of this.#resyncs) this.#call(listener);
  }

  #call(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.onError?.(error);
    }
  }
}
