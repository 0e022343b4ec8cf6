import type { Dispatcher } from 'undici';
import type { GatewayError } from '../../core/errors.js';
import type { EventBatches, EventStream, StreamEvent } from '../types.js';
import { BatchIterator } from '../event-batches.js';
import type { AbortLike } from './abort.js';
import { AbortableHandler } from './abortable-handler.js';
import { SseJsonDecoder, type SseDecodeOptions, type SseEvent } from './sse-events.js';
import { headerRecord, LimitedBody, type WholeAnswer } from './whole-answer.js';

export interface EventStreamSettings extends SseDecodeOptions {
  /** Turns whatever interrupted the call into a GatewayError (abort reasons, timeouts, resets). */
  readonly failure: (error: unknown) => GatewayError;
  /** The error of a non-2xx answer, from its status, headers and the first `errorBodyLimit` bytes of its body. */
  readonly statusError: (answer: WholeAnswer) => GatewayError;
  readonly errorBodyLimit: number;
}

/** Events decoded but not yet taken, above which the upstream's socket is paused. */
const HIGH_WATER = 64;

/**
 * Sends one request over `dispatcher` and resolves, once a 2xx status has come, with its
 * `text/event-stream` body as JSON events; a non-2xx status or a failure before it rejects.
 *
 * Bytes are decoded as undici hands them over (SseJsonDecoder), into a queue the consumer takes
 * from; when the consumer falls more than HIGH_WATER events behind, the socket is paused until
 * it has caught up (backpressure up to the upstream). Written on undici's dispatch API rather
 * than reading `request()`'s body stream: a Readable and its async iterator cost every network
 * chunk several promises and objects, which a streaming gateway pays many times per answer.
 * The call's signal aborts the request, as does a consumer that stops before the end.
 */
export function fetchEventStream<T>(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, signal: AbortLike, settings: EventStreamSettings): Promise<EventStream<T>> {
  if (signal.aborted) return Promise.reject(settings.failure(signal.reason));
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new UpstreamEvents<T>(signal, settings, resolve, reject));
  });
}

/** A consumer waiting for the next batch of events. */
type Waiter<T> = { resolve: (events: readonly StreamEvent<T>[] | null) => void; reject: (error: unknown) => void };

class UpstreamEvents<T> extends AbortableHandler implements Dispatcher.DispatchHandler, AsyncIterable<StreamEvent<T>>, EventBatches<T> {
  private resumeSocket: (() => void) | null = null;
  private paused = false;
  /** Until a 2xx status (or a failure): how the caller learns how the call began. */
  private start: { resolve: (stream: EventStream<T>) => void; reject: (error: unknown) => void } | null;
  /** A non-2xx answer's status, headers and body (up to the limit), read for its error. */
  private errorAnswer: { status: number; rawHeaders: Buffer[]; body: LimitedBody } | null = null;
  private readonly decoder: SseJsonDecoder<T>;
  /** Decoded, not yet taken; the consumer takes them all at once. */
  private queue: SseEvent<T>[] = [];
  /** The body has ended, failed, or the consumer has stopped: nothing more will be queued. */
  private ended = false;
  private failed: GatewayError | null = null;
  private waiter: Waiter<T> | null = null;

  constructor(
    signal: AbortLike,
    private readonly settings: EventStreamSettings,
    resolve: (stream: EventStream<T>) => void,
    reject: (error: unknown) => void,
  ) {
    super(signal);
    this.start = { resolve, reject };
    this.decoder = new SseJsonDecoder<T>(settings, (event) => void this.queue.push(event));
  }

  protected get finished(): boolean {
    return this.ended;
  }

  // --- undici's side ---

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the answer follows
    if (statusCode >= 300) {
      this.errorAnswer = { status: statusCode, rawHeaders, body: new LimitedBody(this.settings.errorBodyLimit) };
      return true;
    }
    this.resumeSocket = resume;
    const start = this.start!;
    this.start = null;
    start.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const error = this.errorAnswer;
    if (error !== null) {
      error.body.add(chunk);
      return true;
    }
    if (this.ended || !this.decoder.open) return true; // after [DONE]: read to the end, keep the connection
    this.decoder.feed(chunk);
    if (this.decoder.error !== null) {
      // Stop reading; the consumer gets the events before the error, then the error.
      this.failed = this.decoder.error;
      this.close();
      this.abortRequest?.(this.failed);
    }
    this.wake();
    if (this.queue.length >= HIGH_WATER && !this.ended) this.paused = true;
    return !this.paused;
  }

  onComplete(): void {
    const error = this.errorAnswer;
    if (error !== null) {
      this.errorAnswer = null;
      this.fail(this.settings.statusError({ status: error.status, headers: headerRecord(error.rawHeaders), text: error.body.text() }));
      return;
    }
    if (this.ended) return;
    this.failed = this.decoder.finish();
    this.close();
    this.wake();
  }

  onError(error: Error): void {
    this.fail(this.settings.failure(error));
  }

  // --- the consumer's side ---

  /** Every event decoded so far, at once: those of one network read usually come together. */
  nextBatch(): Promise<readonly StreamEvent<T>[] | null> {
    if (this.queue.length > 0) return Promise.resolve(this.takeAll());
    if (this.failed !== null) return this.takeFailure();
    if (this.ended || this.decoder.done) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The consumer stops early (client gone, or a failure on its side): the call is aborted. */
  return(): void {
    if (!this.ended) {
      this.close();
      this.abortRequest?.(new Error('stream closed by the gateway'));
    }
    this.queue = [];
  }

  /** One event at a time, for `for await`. */
  [Symbol.asyncIterator](): AsyncIterableIterator<StreamEvent<T>> {
    return new BatchIterator(this);
  }

  // --- both ---

  /** The queue, taken whole: a paused socket reads again. */
  private takeAll(): SseEvent<T>[] {
    const events = this.queue;
    this.queue = [];
    if (this.paused) {
      this.paused = false;
      this.resumeSocket?.();
    }
    return events;
  }

  private takeFailure(): Promise<never> {
    return Promise.reject(this.consumeFailure());
  }

  /** The failure, reported once; after it the stream is over. */
  private consumeFailure(): GatewayError {
    const failed = this.failed!;
    this.failed = null;
    this.ended = true;
    return failed;
  }

  /** Hands the next event, the failure or the end to a consumer that is waiting. */
  private wake(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    if (this.queue.length > 0) {
      this.waiter = null;
      waiter.resolve(this.takeAll());
    } else if (this.failed !== null) {
      this.waiter = null;
      waiter.reject(this.consumeFailure());
    } else if (this.ended || this.decoder.done) {
      this.waiter = null;
      waiter.resolve(null);
    }
  }

  private fail(error: GatewayError): void {
    if (this.start !== null) {
      const start = this.start;
      this.start = null;
      this.close();
      start.reject(error);
      return;
    }
    if (this.ended) return;
    this.failed = error;
    this.close();
    this.wake();
  }

  private close(): void {
    this.ended = true;
    this.detachSignal();
  }
}
