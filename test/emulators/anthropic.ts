import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { planMessage, streamEvents } from './anthropic-answers.js';
import { checkMessagesRequest, checkVersion, Invalid, type ApiVersion } from './anthropic-requests.js';

/**
 * A real HTTP server that speaks Anthropic's Messages API (POST /v1/messages, whole and streamed
 * as named server-sent events), strict about what it accepts (anthropic-requests.ts) and
 * answering deterministically (anthropic-answers.ts). Errors come in Anthropic's shape
 * `{"type": "error", "error": {"type", "message"}, "request_id"}`. The upstream model id chooses
 * behaviour, so one emulator serves many deployments:
 *
 * - any other id: the echo answer (text, or tool_use blocks when tools are offered)
 * - `with-thinking`: a thinking block first; `with-preamble`: text before the tool_use blocks
 * - `cached`: usage with cache reads and writes; `refusal`: stop_reason "refusal"
 * - `fail-400`, `fail-401`, `fail-403`, `fail-404`, `fail-413`, `fail-429` (retry-after: 7),
 *   `fail-500`, `fail-529` (overloaded): the API's errors
 * - `leak-key-400`: a 400 whose message repeats the presented key
 * - `error-mid-stream`: some events, then an `error` event (overloaded_error); whole: a 529
 * - `reset-mid-stream`: some events, then the socket is destroyed
 * - `not-json`: 200 with a body (or event) that is not JSON
 * - `slow-stream`: a long stream, one event every `slowEventMs`
 */

export interface AnthropicEmulatorOptions {
  /** When set, requests must present it as `x-api-key` or `Authorization: Bearer`. */
  readonly apiKey?: string;
  readonly slowEventMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** Why the request was refused as malformed or unauthorised; null for a sane one. */
  problem: string | null;
  /** Settles when the exchange is over; `aborted` when the peer left before the answer was complete. */
  readonly closed: Promise<{ aborted: boolean }>;
}

export interface AnthropicEmulator {
  /** The API root, as ANTHROPIC_BASE_URL takes it (no /v1). */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

export const MID_STREAM_ERROR = { type: 'overloaded_error', message: 'Overloaded' } as const;
export const BAD_REQUEST_MESSAGE = 'prompt is too long: 212345 tokens > 200000 maximum';

const FAULTS: Readonly<Record<string, { status: number; type: string; message: string; headers?: Record<string, string> }>> = {
  'fail-400': { status: 400, type: 'invalid_request_error', message: BAD_REQUEST_MESSAGE },
  'fail-401': { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  'fail-403': { status: 403, type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  'fail-404': { status: 404, type: 'not_found_error', message: 'model: fail-404' },
  'fail-413': { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  'fail-429': {
    status: 429,
    type: 'rate_limit_error',
    message: 'This request would exceed the rate limit for your organization of 50 requests per minute.',
    headers: {
      'retry-after': '7',
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:07Z',
    },
  },
  'fail-500': { status: 500, type: 'api_error', message: 'Internal server error' },
  'fail-529': { status: 529, type: 'overloaded_error', message: 'Overloaded' },
};

export async function startAnthropicEmulator(options: AnthropicEmulatorOptions = {}): Promise<AnthropicEmulator> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;
  const server = createServer((req, res) => {
    const closed = new Promise<{ aborted: boolean }>((resolve) => res.on('close', () => resolve({ aborted: !res.writableFinished })));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordRequest(req, Buffer.concat(chunks).toString('utf8'), closed);
      requests.push(record);
      res.setHeader('request-id', `req_emu_${++counter}`);
      try {
        answer(record, res, options, timers);
      } catch (error) {
        if (!(error instanceof Invalid)) throw error;
        record.problem = error.message;
        sendError(res, error.status, error.type, error.message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close() {
      for (const timer of timers) clearTimeout(timer);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function recordRequest(req: IncomingMessage, raw: string, closed: RecordedRequest['closed']): RecordedRequest {
  let body: unknown;
  try {
    body = raw.length > 0 ? JSON.parse(raw) : undefined;
  } catch {
    body = undefined;
  }
  const url = new URL(req.url ?? '/', 'http://emulator');
  return { method: req.method ?? '', path: url.pathname, query: url.search, headers: req.headers, body, problem: null, closed };
}

/** Checks auth, version and body in the API's order, then answers or plays the model's fault. */
function answer(record: RecordedRequest, res: ServerResponse, options: AnthropicEmulatorOptions, timers: Set<NodeJS.Timeout>): void {
  const presented = presentedKey(record.headers);
  if (options.apiKey !== undefined && presented !== options.apiKey) throw new Invalid('invalid x-api-key', 'authentication_error', 401);
  if (record.method !== 'POST' || record.path !== '/v1/messages') throw new Invalid(`Not found: ${record.method} ${record.path}`, 'not_found_error', 404);
  const version: ApiVersion = checkVersion(record.headers['anthropic-version']);
  if (!(record.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw new Invalid('Content-Type must be application/json');
  if (record.body === undefined) throw new Invalid('There was an issue with the format of the request body: it is not valid JSON.');
  checkMessagesRequest(record.body, version);
  const body = record.body as Json;
  const model = body.model as string;
  const fault = FAULTS[model];
  if (fault !== undefined) {
    sendError(res, fault.status, fault.type, fault.message, fault.headers);
    return;
  }
  if (model === 'leak-key-400') {
    sendError(res, 400, 'invalid_request_error', `The key ${presented ?? ''} may not use this model.`);
    return;
  }
  if (model === 'not-json') {
    res.writeHead(200, { 'content-type': body.stream === true ? 'text/event-stream' : 'application/json' });
    res.end(body.stream === true ? 'event: message_start\ndata: {this is not json\n\n' : '<html>not json</html>');
    return;
  }
  const message = planMessage(body, model);
  if (body.stream !== true) {
    if (model === 'error-mid-stream') sendError(res, 529, MID_STREAM_ERROR.type, MID_STREAM_ERROR.message);
    else sendJson(res, 200, message);
    return;
  }
  sendStream(res, model, streamEvents(message, model === 'slow-stream' ? 2_000 : 0), options.slowEventMs ?? 20, timers);
}

/**
 * Named server-sent events (`event: <type>` + `data: <json>`), each written in two halves split
 * inside its bytes (possibly inside a UTF-8 sequence), so readers must reassemble them.
 */
function sendStream(res: ServerResponse, model: string, events: Json[], slowMs: number, timers: Set<NodeJS.Timeout>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const frames = events.map((event) => `event: ${event.type as string}\ndata: ${JSON.stringify(event)}\n\n`);
  const write = (frame: string, done?: () => void) => {
    const bytes = Buffer.from(frame, 'utf8');
    const middle = Math.floor(bytes.length / 2);
    res.write(bytes.subarray(0, middle));
    res.write(bytes.subarray(middle), done);
  };
  if (model === 'error-mid-stream' || model === 'reset-mid-stream') {
    const sent = frames.slice(0, 4);
    sent.forEach((frame, index) => write(frame, index === sent.length - 1 && model === 'reset-mid-stream' ? () => res.socket?.destroy() : undefined));
    if (model === 'error-mid-stream') {
      write(`event: error\ndata: ${JSON.stringify({ type: 'error', error: MID_STREAM_ERROR, request_id: 'req_emu_stream' })}\n\n`);
      res.end();
    }
    return;
  }
  if (model !== 'slow-stream') {
    for (const frame of frames) write(frame);
    res.end();
    return;
  }
  let next = 0;
  const tick = () => {
    if (res.destroyed) return;
    const frame = frames[next++];
    if (frame === undefined) {
      res.end();
      return;
    }
    write(frame);
    const timer = setTimeout(() => {
      timers.delete(timer);
      tick();
    }, slowMs);
    timers.add(timer);
  };
  tick();
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  const requestId = String(res.getHeader('request-id') ?? 'req_emu');
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, headers);
}

/** The key, from `x-api-key` (documented) or `Authorization: Bearer` (what recent SDKs send). */
function presentedKey(headers: IncomingHttpHeaders): string | null {
  const key = headers['x-api-key'];
  if (typeof key === 'string') return key;
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return match === null ? null : match[1]!.trim();
}
