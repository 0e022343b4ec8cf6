import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { GatewayError } from '../../core/errors.js';
import type { Timeouts } from '../../config/deployment-base.js';
import type { EventStream, UpstreamCall } from '../types.js';
import { upstreamStatusError } from './upstream-errors.js';
import { mapTransportError } from './transport-errors.js';
import { abortReason, asAbortSignal } from './abort.js';
import { fetchWhole, type WholeAnswer } from './whole-answer.js';
import { fetchEventStream } from './event-stream.js';
import type { SseDecodeOptions } from './sse-events.js';

/** How much of an error answer's body is read for its message. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface UpstreamClientOptions {
  readonly baseUrl: string;
  readonly timeouts: Timeouts;
  /** Most connections kept open to this upstream. */
  readonly connections: number;
  /** Values that must never reach a client or a log (e.g. the upstream key), scrubbed from upstream errors. */
  readonly secrets: readonly string[];
  /**
   * Turns an error status and its body into a GatewayError, for upstreams whose error body is not
   * OpenAI-shaped (e.g. Google's `{"error": {"code", "message", "status", "details"}}`); defaults
   * to `upstreamStatusError`.
   */
  readonly statusError?: StatusErrorMapper;
}

export type StatusErrorMapper = (status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]) => GatewayError;

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, starting with '/'. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/**
 * One keep-alive connection pool to one upstream origin, with the deployment's timeouts.
 * Knows HTTP and how transport failures and error statuses become GatewayErrors; knows nothing
 * of any provider's auth or body format (those live in the provider's folder).
 */
export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeouts: Timeouts;
  private readonly statusError: StatusErrorMapper;
  readonly secrets: readonly string[];

  constructor(options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeouts = options.timeouts;
    this.secrets = options.secrets.filter((secret) => secret.length > 0);
    this.statusError = options.statusError ?? upstreamStatusError;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      connect: { timeout: options.timeouts.connect_ms },
      headersTimeout: options.timeouts.first_byte_ms,
      bodyTimeout: options.timeouts.idle_ms,
      keepAliveTimeout: 30_000,
    });
  }

  /** Sends the request; resolves with a 2xx response whose body is still to be read. */
  async send(request: UpstreamRequest, call: UpstreamCall): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatch(request, call);
    } catch (error) {
      throw this.failure(error, call);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    throw await this.statusFailure(response, call);
  }

  /**
   * Sends the request and reads its whole 2xx JSON answer into one buffer (fetchWhole), the way
   * every non-streamed model call goes; an error status becomes the GatewayError it means.
   */
  async requestJson<T>(request: UpstreamRequest, call: UpstreamCall): Promise<{ value: T; raw: string }> {
    let answer: WholeAnswer;
    try {
      answer = await fetchWhole(this.pool, this.dispatchOptions(request), call.signal, ERROR_BODY_LIMIT);
    } catch (error) {
      throw this.failure(error, call);
    }
    if (answer.status < 200 || answer.status >= 300) throw this.statusError(answer.status, answer.headers, answer.text, this.secrets);
    return parseJsonAnswer<T>(answer.text);
  }

  /**
   * Sends the request and resolves, once a 2xx status has come, with its `text/event-stream`
   * body as JSON events (see fetchEventStream); a failure or an error status before that rejects.
   */
  streamEvents<T>(request: UpstreamRequest, call: UpstreamCall, decode: Pick<SseDecodeOptions, 'isFinal' | 'mayBeFinal'>): Promise<EventStream<T>> {
    return fetchEventStream<T>(this.pool, this.dispatchOptions(request), call.signal, {
      isFinal: decode.isFinal,
      mayBeFinal: decode.mayBeFinal,
      secrets: this.secrets,
      failure: (error) => this.failure(error, call),
      statusError: (answer) => this.statusError(answer.status, answer.headers, answer.text, this.secrets),
      errorBodyLimit: ERROR_BODY_LIMIT,
    });
  }

  private dispatchOptions(request: UpstreamRequest): Dispatcher.DispatchOptions {
    return { method: request.method, path: this.basePath + request.path, headers: request.headers, body: request.body };
  }

  private dispatch(request: UpstreamRequest, call: UpstreamCall): Promise<Dispatcher.ResponseData> {
    return this.pool.request({
      method: request.method,
      path: this.basePath + request.path,
      headers: request.headers,
      body: request.body,
      signal: asAbortSignal(call.signal),
    });
  }

  /** The GatewayError of a non-2xx answer, its body read (up to 64 KiB) for the message. */
  private async statusFailure(response: Dispatcher.ResponseData, call: UpstreamCall): Promise<GatewayError> {
    let text = '';
    try {
      text = await readLimited(response.body, ERROR_BODY_LIMIT);
    } catch (error) {
      return this.failure(error, call);
    }
    return this.statusError(response.statusCode, response.headers, text, this.secrets);
  }

  /** GET of an absolute path on the upstream's origin (not below the base path); rejects unless 2xx. */
  async probe(path: string, signal: AbortSignal): Promise<void> {
    const response = await this.pool.request({ method: 'GET', path, signal });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`health check answered ${response.statusCode}`);
  }

  /** Reads a whole 2xx JSON body. */
  async readJson<T>(response: Dispatcher.ResponseData, call: UpstreamCall): Promise<{ value: T; raw: string }> {
    let raw: string;
    try {
      raw = await response.body.text();
    } catch (error) {
      throw this.failure(error, call);
    }
    return parseJsonAnswer<T>(raw);
  }

  /** Turns whatever interrupted a call into a GatewayError, preferring the abort reason. */
  failure(error: unknown, call: UpstreamCall): GatewayError {
    if (call.signal.aborted) return abortReason(call.signal);
    if (error instanceof GatewayError) return error;
    return mapTransportError(error, this.timeouts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function parseJsonAnswer<T>(raw: string): { value: T; raw: string } {
  try {
    return { value: JSON.parse(raw) as T, raw };
  } catch {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream answered with a body that is not JSON.' });
  }
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
