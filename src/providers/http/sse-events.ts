import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.js';
import type { StreamEvent } from '../types.js';
import { scrub } from './upstream-errors.js';

export interface SseJsonOptions {
  /** Called for every failure while reading, to turn it into a GatewayError (abort reasons, timeouts). */
  readonly failure: (error: unknown) => GatewayError;
  /** True when the event means the answer is complete (e.g. a finish_reason), so an end without `[DONE]` is fine. */
  readonly isFinal: (value: unknown) => boolean;
  /**
   * A look at the raw text that is false only for events that cannot be final; those are then
   * not parsed for isFinal. Without it every event is parsed as it arrives.
   */
  readonly mayBeFinal?: (raw: string) => boolean;
  /** Values scrubbed from an upstream's error event before it reaches the client. */
  readonly secrets: readonly string[];
}

/**
 * Reads an upstream `text/event-stream` body as JSON events, one network chunk at a time: nothing
 * is buffered beyond the event being read, and the next chunk is pulled only when the consumer
 * asks for the next event, so a slow client slows the upstream (backpressure).
 *
 * `data: [DONE]` ends the stream. An `{"error": …}` event becomes a thrown upstream error. A body
 * that ends before `[DONE]` and before any final event was cut off, and is an error too.
 *
 * An event's JSON is parsed when its `value` is first read: a relay that passes an ordinary
 * chunk on as its raw text never parses it. Parsed at once, whoever reads them: the first event
 * (so that a stream that starts with garbage fails before the answer has begun) and any event
 * whose text holds an `"error"` member; with `mayBeFinal`, the events it picks are kept and
 * parsed for isFinal only if the stream ends without `[DONE]`. A malformed event in the middle of
 * a stream that nobody reads is passed on as it came.
 */
export async function* sseJsonEvents<T>(
  body: AsyncIterable<Buffer | Uint8Array>,
  options: SseJsonOptions,
): AsyncGenerator<StreamEvent<T>> {
  const decoder = new TextDecoder();
  let pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => void pending.push(event) });
  let done = false;
  let sawFinal = false;
  let first = true;
  /** With mayBeFinal: the events that may be final (a few per stream). */
  const candidates: SseEvent<T>[] = [];
  try {
    // After `[DONE]` the rest of the body is still read (it is normally empty) so that the
    // connection ends cleanly and stays in the keep-alive pool.
    for await (const chunk of body) {
      if (done) continue;
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (pending.length === 0) continue;
      const events = pending;
      pending = [];
      for (const event of events) {
        const raw = event.data;
        if (raw === '[DONE]') {
          done = true;
          break;
        }
        if (raw.length === 0) continue;
        const parsed = new SseEvent<T>(raw, options.secrets);
        if (first || raw.includes('"error"')) void parsed.value; // throws for an error event or bad JSON
        first = false;
        if (options.mayBeFinal === undefined) {
          if (!sawFinal && options.isFinal(parsed.value)) sawFinal = true;
        } else if (!sawFinal && options.mayBeFinal(raw)) {
          // Looked at only if the stream ends without [DONE] (rarely): usually never parsed. An
          // upstream that marks many events so is looked at as it goes, to hold few.
          candidates.push(parsed);
          if (candidates.length >= MAX_CANDIDATES) {
            sawFinal = candidates.some((event) => options.isFinal(event.value));
            candidates.length = 0;
          }
        }
        yield parsed;
      }
    }
  } catch (error) {
    throw options.failure(error);
  } finally {
    // Reached early only when the consumer stopped (client gone) or reading failed.
    destroyBody(body);
  }
  if (!done && !sawFinal && !candidates.some((event) => options.isFinal(event.value))) {
    throw new GatewayError('upstream_error', { message: 'The upstream ended its stream before the answer was complete.' });
  }
}

const MAX_CANDIDATES = 16;

/** One event: its raw text, and its JSON parsed on first use. */
class SseEvent<T> implements StreamEvent<T> {
  #value: T | undefined = undefined;
  #parsed = false;
  /** Private: an event object may be logged or serialised; the secrets must never go with it. */
  readonly #secrets: readonly string[];

  constructor(
    readonly raw: string,
    secrets: readonly string[],
  ) {
    this.#secrets = secrets;
  }

  get value(): T {
    if (!this.#parsed) {
      this.#value = parseEvent(this.raw, this.#secrets) as T;
      this.#parsed = true;
    }
    return this.#value as T;
  }
}

function parseEvent(raw: string, secrets: readonly string[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event that is not JSON.' });
  }
  if (value !== null && typeof value === 'object' && 'error' in value) throw streamError((value as { error: unknown }).error, secrets);
  return value;
}

/** An `{"error": …}` event: the upstream's message, type and code reach the client. */
function streamError(inner: unknown, secrets: readonly string[]): GatewayError {
  if (typeof inner === 'string') return new GatewayError('upstream_error', { message: scrub(inner, secrets) });
  const fields = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
  return new GatewayError('upstream_error', {
    message: typeof fields.message === 'string' ? scrub(fields.message, secrets) : 'The upstream reported an error in its stream.',
    type: typeof fields.type === 'string' ? fields.type : undefined,
    upstreamCode: fields.code === undefined || fields.code === null ? null : String(fields.code),
  });
}

/** Stops reading an upstream body we no longer need, so its connection is freed or closed. */
function destroyBody(body: unknown): void {
  const destroy = (body as { destroy?: () => void }).destroy;
  if (typeof destroy === 'function') destroy.call(body);
}
