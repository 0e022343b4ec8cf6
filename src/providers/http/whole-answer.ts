import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AbortLike } from './abort.js';
import { AbortableHandler } from './abortable-handler.js';

/** An upstream's whole answer: its status, its headers and its body as text. */
export interface WholeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * Sends one request over `dispatcher` and reads the whole answer into memory: a non-streamed
 * model call's answer, or an error status's body (cut at `errorBodyLimit` bytes).
 *
 * A handler of undici's own dispatch API rather than `request()`: `request()` makes, per call,
 * an AsyncResource, a Readable for the body and a callback and promise chain to consume it,
 * which together cost a gateway's non-streamed call more than anything of its own. Here the
 * chunks go straight into an array and the promise resolves once, at the end. The call's
 * signal aborts the request (undici then closes the connection if it was in use).
 */
export function fetchWhole(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortLike,
  errorBodyLimit: number,
): Promise<WholeAnswer> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new WholeAnswerHandler(signal, errorBodyLimit, resolve, reject));
  });
}

class WholeAnswerHandler extends AbortableHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private rawHeaders: Buffer[] | null = null;
  private body = new LimitedBody(Number.POSITIVE_INFINITY);
  private settled = false;

  constructor(
    signal: AbortLike,
    private readonly errorBodyLimit: number,
    private readonly resolve: (answer: WholeAnswer) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super(signal);
  }

  protected get finished(): boolean {
    return this.settled;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the answer follows
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    if (statusCode >= 300) this.body = new LimitedBody(this.errorBodyLimit);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.body.add(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.settled = true;
    this.detachSignal();
    this.resolve({ status: this.status, headers: this.status >= 300 ? headerRecord(this.rawHeaders) : NO_HEADERS, text: this.body.text() });
  }

  onError(error: Error): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.detachSignal();
    this.reject(error);
  }
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});

/** An answer's body as its chunks come, keeping its first `limit` bytes (all of it without a limit). */
export class LimitedBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (this.size < this.limit) this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The kept bytes as UTF-8 text, cut at the limit. */
  text(): string {
    const chunks = this.chunks;
    let body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (body.length > this.limit) body = body.subarray(0, this.limit);
    return body.toString('utf8');
  }
}

/**
 * Raw header pairs as Node's IncomingHttpHeaders (names lower-cased, repeated ones joined with
 * ", "); read only for error answers, whose back-off hints may be passed on.
 */
export function headerRecord(raw: readonly Buffer[] | null): IncomingHttpHeaders {
  const headers: Record<string, string> = {};
  if (raw === null) return headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}
