import { createParser, type EventSourceParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.js';
import { scrub } from './upstream-errors.js';
import { Utf8Chunks } from './utf8-chunks.js';
import type { StreamEvent } from '../types.js';

/** How a stream's events are told apart (see SseJsonDecoder). */
export interface SseDecodeOptions {
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
 * Decodes an upstream `text/event-stream` body into JSON events, pushed to `emit` as each chunk
 * of bytes is fed in: nothing is buffered beyond the event being read.
 *
 * `data: [DONE]` ends the stream (`done`). An `{"error": …}` event, or a first event that is not
 * JSON (a stream that starts with garbage fails before the answer has begun), stops decoding
 * with `error` set; the events before it were emitted. A body that ends before `[DONE]` and
 * before any final event was cut off: `finish` says so.
 *
 * An event's JSON is parsed when its `value` is first read: a relay that passes an ordinary
 * chunk on as its raw text never parses it. Parsed at once, whoever reads them: the first event
 * and any event whose text holds an `"error"` member; with `mayBeFinal`, the events it picks are
 * kept and parsed for isFinal only if the stream ends without `[DONE]`. A malformed event in the
 * middle of a stream that nobody reads is passed on as it came.
 */
export class SseJsonDecoder<T> {
  /** `[DONE]` has come; later bytes are ignored. */
  done = false;
  /** Why decoding stopped early: an error event, or a first event that is not JSON. */
  error: GatewayError | null = null;
  private readonly text = new Utf8Chunks();
  private readonly parser: EventSourceParser;
  private sawFinal = false;
  private first = true;
  /** With mayBeFinal: the events that may be final (a few per stream). */
  private readonly candidates: SseEvent<T>[] = [];

  constructor(
    private readonly options: SseDecodeOptions,
    private readonly emit: (event: SseEvent<T>) => void,
  ) {
    this.parser = createParser({ onEvent: (message) => this.onMessage(message.data) });
  }

  /** Whether more bytes would be looked at: false after `[DONE]` or an error. */
  get open(): boolean {
    return !this.done && this.error === null;
  }

  feed(chunk: Uint8Array): void {
    if (this.open) this.parser.feed(this.text.decode(chunk));
  }

  /** At the end of the body: the error of a stream cut off before its end, else null. */
  finish(): GatewayError | null {
    if (this.error !== null) return this.error;
    if (this.done || this.sawFinal || this.candidates.some((event) => this.options.isFinal(event.value))) return null;
    return new GatewayError('upstream_error', { message: 'The upstream ended its stream before the answer was complete.' });
  }

  private onMessage(raw: string): void {
    if (!this.open) return;
    if (raw === '[DONE]') {
      this.done = true;
      return;
    }
    if (raw.length === 0) return;
    const event = new SseEvent<T>(raw, this.options.secrets);
    if (this.first || raw.includes('"error"')) {
      try {
        void event.value;
      } catch (error) {
        this.error = error as GatewayError;
        return;
      }
    }
    this.first = false;
    const { isFinal, mayBeFinal } = this.options;
    if (mayBeFinal === undefined) {
      if (!this.sawFinal && isFinal(event.value)) this.sawFinal = true;
    } else if (!this.sawFinal && mayBeFinal(raw)) {
      // Looked at only if the stream ends without [DONE] (rarely): usually never parsed. An
      // upstream that marks many events so is looked at as it goes, to hold few.
      const candidates = this.candidates;
      candidates.push(event);
      if (candidates.length >= MAX_CANDIDATES) {
        this.sawFinal = candidates.some((candidate) => isFinal(candidate.value));
        candidates.length = 0;
      }
    }
    this.emit(event);
  }
}

const MAX_CANDIDATES = 16;

/** One event: its raw text, and its JSON parsed on first use. */
export class SseEvent<T> implements StreamEvent<T> {
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
