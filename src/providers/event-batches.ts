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
