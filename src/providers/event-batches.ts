import type { EventBatches, EventStream, StreamEvent } from './types.js';

/**
 * Reads `events` in batches. A stream decoded straight from an upstream's socket (event-stream.ts)
 * hands over every event of one network read at once: its consumer pays one promise and can
 * make one socket write per read instead of one per event. Any other stream (a provider's
 * translation, a wrapper) comes one event per batch.
 */
export function eventBatches<T>(events: EventStream<T>): EventBatches<T> {
  if (isBatched<T>(events)) return events;
  return new OneByOne(events[Symbol.asyncIterator]());
}

function isBatched<T>(events: EventStream<T>): events is EventStream<T> & EventBatches<T> {
  return typeof (events as Partial<EventBatches<T>>).nextBatch === 'function';
}

class OneByOne<T> implements EventBatches<T> {
  #done = false;

  constructor(private readonly iterator: AsyncIterator<StreamEvent<T>>) {}

  async nextBatch(): Promise<readonly StreamEvent<T>[] | null> {
    if (this.#done) return null;
    let result: IteratorResult<StreamEvent<T>>;
    try {
      result = await this.iterator.next();
    } catch (error) {
      this.#done = true;
      throw error;
    }
    if (result.done === true) {
      this.#done = true;
      return null;
    }
    return [result.value];
  }

  /** As `for await` does when its loop is left early: the iterator's `return`, once. */
  return(): void {
    if (this.#done) return;
    this.#done = true;
    void this.iterator.return?.()?.catch(() => {});
  }
}

/**
 * A batched stream read one event at a time (`for await`), optionally with a batch already read
 * in front (a stream whose first events were awaited before it was handed on). It passes whole
 * batches on too, so a reader in batches loses nothing by the layer. `return()` reaches the
 * source, which frees the upstream's connection.
 */
export class BatchIterator<T> implements AsyncIterableIterator<StreamEvent<T>>, EventBatches<T> {
  /** Events taken from the source but not yet handed on, from `at`. */
  private held: readonly StreamEvent<T>[] | null;
  private at = 0;

  constructor(
    private readonly source: EventBatches<T>,
    first: readonly StreamEvent<T>[] | null = null,
  ) {
    this.held = first;
  }

  nextBatch(): Promise<readonly StreamEvent<T>[] | null> {
    const { held, at } = this;
    this.held = null;
    this.at = 0;
    if (held === null || at >= held.length) return this.source.nextBatch();
    return Promise.resolve(at === 0 ? held : held.slice(at));
  }

  async next(): Promise<IteratorResult<StreamEvent<T>>> {
    while (this.held === null || this.at >= this.held.length) {
      this.held = null;
      this.at = 0;
      const batch = await this.source.nextBatch();
      if (batch === null) return { done: true, value: undefined };
      this.held = batch;
    }
    return { done: false, value: this.held[this.at++]! };
  }

  return(): Promise<IteratorResult<StreamEvent<T>>> {
    this.held = null;
    this.source.return();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamEvent<T>> {
    return this;
  }
}
