import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CREATED, chatCompletion, chatCompletionChunks, embeddingList, textCompletion, textCompletionChunks } from './openai-bodies.js';

/**
 * A real HTTP server that speaks OpenAI's API as an upstream of the gateway: chat completions
 * (whole and streamed, tools, `n`), embeddings (float and base64), legacy completions and the
 * model list. Answers are deterministic (openai-answers.ts, shaped in openai-bodies.ts). Faults
 * are chosen by the upstream model id a request names, so one emulator serves several deployments:
 *
 * - `fail-400`, `fail-401`, `fail-429` (with retry-after), `fail-500`: OpenAI-shaped errors
 * - `leak-key-400`, `leak-key-500`: errors whose message repeats the presented API key in full
 * - `reset`: the socket is destroyed without an answer; `hang`: no answer, ever
 * - `stall-mid-stream`: some chunks (or half a JSON body), then silence
 * - `reset-mid-stream`: some chunks (or half a JSON body), then the socket is destroyed
 * - `error-mid-stream`: some chunks, then an `{"error": …}` event and the end (as OpenAI does when
 *   a model fails mid-answer); a whole answer is a 500
 * - `slow-stream`: a long stream, one chunk every `slowChunkMs` (for abort and total-timeout tests)
 * - `not-json`: 200 with a body (or stream event) that is not JSON
 *
 * Every request is recorded (method, path, headers, parsed body, whether it was sane) together
 * with a promise that settles when its exchange ends, and so is every connection.
 */

export const FAULT_MODELS = [
  'fail-400',
  'fail-401',
  'fail-429',
  'fail-500',
  'leak-key-400',
  'leak-key-500',
  'reset',
  'hang',
  'stall-mid-stream',
  'reset-mid-stream',
  'error-mid-stream',
  'slow-stream',
  'not-json',
] as const;

export type Fault = (typeof FAULT_MODELS)[number];

export interface EmulatorOptions {
  /** When set, every request must carry `Authorization: Bearer <apiKey>`; others get OpenAI's 401. */
  readonly apiKey?: string;
  /** Pause between the chunks of `slow-stream`. */
  readonly slowChunkMs?: number;
  /** Content chunks of `slow-stream` after the echo (it runs for slowChunks × slowChunkMs). */
  readonly slowChunks?: number;
  /** Events (after the first) sent by `stall-mid-stream` and `reset-mid-stream` before the fault. */
  readonly chunksBeforeFault?: number;
  /** Length of embeddings when a request sets no `dimensions`. */
  readonly embeddingDimensions?: number;
}

export interface ExchangeEnd {
  /** True when the peer closed before the answer was complete (the gateway gave up or was told to). */
  readonly aborted: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  readonly body: unknown;
  /** Why the emulator refused the request (malformed, or without the right key); null for a sane request. */
  problem: string | null;
  /** Which connection carried it (see `connectionClosed`). */
  readonly connectionId: number;
  /** Settles when the exchange is over, answered or not. */
  readonly closed: Promise<ExchangeEnd>;
}

export interface ConnectionCounts {
  opened: number;
  closed: number;
}

export interface Emulator {
  /** Base URL of the API, ending in /v1. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  readonly connections: Readonly<ConnectionCounts>;
  /** Resolves with the first request, recorded already or to come, that matches. */
  waitForRequest(predicate?: (request: RecordedRequest) => boolean): Promise<RecordedRequest>;
  /** Resolves when the connection with this id has closed. */
  connectionClosed(id: number): Promise<void>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;


/** The error event `error-mid-stream` sends after its first chunks. */
export const MID_STREAM_ERROR = { message: 'The model stopped in the middle of its answer.', type: 'server_error', code: 'model_error' } as const;
const MODELS = ['emu-model', 'emu-embed', ...FAULT_MODELS];

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = {
    apiKey: options.apiKey,
    slowChunkMs: options.slowChunkMs ?? 20,
    slowChunks: options.slowChunks ?? 2_000,
    chunksBeforeFault: options.chunksBeforeFault ?? 2,
    embeddingDimensions: options.embeddingDimensions ?? 8,
  };
  const requests: RecordedRequest[] = [];
  const waiters: { predicate: (request: RecordedRequest) => boolean; resolve: (request: RecordedRequest) => void }[] = [];
  const counts: ConnectionCounts = { opened: 0, closed: 0 };
  const socketIds = new WeakMap<Socket, number>();
  const socketClosed = new Map<number, Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const closed = new Promise<ExchangeEnd>((resolve) => res.on('close', () => resolve({ aborted: !res.writableFinished })));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordRequest(req, Buffer.concat(chunks).toString('utf8'), socketIds.get(req.socket) ?? 0, closed);
      requests.push(record);
      for (const waiter of waiters.splice(0)) {
        if (waiter.predicate(record)) waiter.resolve(record);
        else waiters.push(waiter);
      }
      answer(record, res, settings, timers);
    });
  });
  server.on('connection', (socket: Socket) => {
    const id = ++counts.opened;
    socketIds.set(socket, id);
    socketClosed.set(id, new Promise((resolve) => socket.on('close', () => resolve())));
    socket.on('close', () => counts.closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    connections: counts,
    waitForRequest(predicate = () => true) {
      const found = requests.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    connectionClosed(id) {
      return socketClosed.get(id) ?? Promise.reject(new Error(`no connection ${id}`));
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

type Settings = {
  readonly apiKey: string | undefined;
  readonly slowChunkMs: number;
  readonly slowChunks: number;
  readonly chunksBeforeFault: number;
  readonly embeddingDimensions: number;
};

function recordRequest(req: IncomingMessage, rawBody: string, connectionId: number, closed: Promise<ExchangeEnd>): RecordedRequest {
  let body: unknown;
  try {
    body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
  } catch {
    body = undefined;
  }
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return {
    method: req.method ?? '',
    path: query === -1 ? url : url.slice(0, query),
    headers: req.headers,
    rawBody,
    body,
    problem: null,
    connectionId,
    closed,
  };
}

function answer(record: RecordedRequest, res: ServerResponse, settings: Settings, timers: Set<NodeJS.Timeout>): void {
  const presented = bearerToken(record.headers.authorization);
  if (settings.apiKey !== undefined && presented !== settings.apiKey) {
    record.problem = 'missing or wrong API key';
    sendError(res, 401, `Incorrect API key provided: ${maskKey(presented ?? '')}.`, 'invalid_request_error', null, 'invalid_api_key');
    return;
  }
  if (record.method === 'GET' && record.path === '/v1/models') {
    sendJson(res, 200, { object: 'list', data: MODELS.map(modelObject) });
    return;
  }
  if (record.method === 'GET' && record.path.startsWith('/v1/models/')) {
    let id = record.path.slice('/v1/models/'.length);
    try {
      id = decodeURIComponent(id);
    } catch {
      // kept as sent
    }
    if (MODELS.includes(id)) sendJson(res, 200, modelObject(id));
    else sendError(res, 404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
    return;
  }
  const endpoint = ENDPOINTS[record.path];
  if (record.method !== 'POST' || endpoint === undefined) {
    sendError(res, 404, `Invalid URL (${record.method} ${record.path})`, 'invalid_request_error', null, null);
    return;
  }
  const problem = checkRequest(record, endpoint.check);
  if (problem !== null) {
    record.problem = problem.message;
    sendError(res, 400, problem.message, 'invalid_request_error', problem.param, problem.code);
    return;
  }
  const body = record.body as Json;
  const model = body.model as string;
  if (answerFault(model, presented ?? '', body, res)) return;
  const exchange: Exchange = { model, res, settings, timers };
  if (body.stream === true && endpoint.chunks !== null) {
    sendStream(exchange, endpoint.chunks(body, model, model === 'slow-stream' ? settings.slowChunks : 0));
  } else {
    sendWhole(exchange, endpoint.whole(body, model, settings));
  }
}

interface Problem {
  readonly message: string;
  readonly param: string | null;
  readonly code: string | null;
}

interface Endpoint {
  readonly check: (body: Json) => Problem | null;
  /** The whole answer. */
  readonly whole: (body: Json, model: string, settings: Settings) => Json;
  /** The events of a streamed answer; `extraPieces` more content chunks for `slow-stream`. */
  readonly chunks: ((body: Json, model: string, extraPieces: number) => Json[]) | null;
}

interface Exchange {
  readonly model: string;
  readonly res: ServerResponse;
  readonly settings: Settings;
  readonly timers: Set<NodeJS.Timeout>;
}

const ENDPOINTS: Record<string, Endpoint | undefined> = {
  '/v1/chat/completions': { check: checkChat, whole: chatCompletion, chunks: chatCompletionChunks },
  '/v1/completions': {
    check: (body) => checkStreaming(body) ?? required(body, 'prompt'),
    whole: textCompletion,
    chunks: textCompletionChunks,
  },
  '/v1/embeddings': {
    check: checkEmbeddings,
    whole: (body, model, settings) => embeddingList(body, model, settings.embeddingDimensions),
    chunks: null,
  },
};

/** The checks every sane request passes: a JSON object body with a model, sent as JSON. */
function checkRequest(record: RecordedRequest, check: (body: Json) => Problem | null): Problem | null {
  const type = record.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    return { message: `Unsupported content-type "${type}"; send application/json.`, param: null, code: null };
  }
  if (record.body === undefined) {
    return { message: 'We could not parse the JSON body of your request.', param: null, code: null };
  }
  if (record.body === null || typeof record.body !== 'object' || Array.isArray(record.body)) {
    return { message: 'The body of your request must be a JSON object.', param: null, code: null };
  }
  const body = record.body as Json;
  if (typeof body.model !== 'string' || body.model.length === 0) return required(body, 'model') ?? invalidParam('model');
  return check(body);
}

function required(body: Json, param: string): Problem | null {
  if (body[param] !== undefined && body[param] !== null) return null;
  return { message: `Missing required parameter: '${param}'.`, param, code: 'missing_required_parameter' };
}

function invalidParam(param: string): Problem {
  return { message: `Invalid value for '${param}'.`, param, code: 'invalid_value' };
}

function checkStreaming(body: Json): Problem | null {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') return invalidParam('stream');
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return { message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: 'stream_options', code: null };
  }
  return null;
}

function checkChat(body: Json): Problem | null {
  const missing = required(body, 'messages');
  if (missing !== null) return missing;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return invalidParam('messages');
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Json | null;
    if (message === null || typeof message !== 'object' || typeof message.role !== 'string') return invalidParam(`messages[${i}]`);
  }
  return checkStreaming(body);
}

function checkEmbeddings(body: Json): Problem | null {
  const missing = required(body, 'input');
  if (missing !== null) return missing;
  const format = body.encoding_format;
  if (format !== undefined && format !== 'float' && format !== 'base64') return invalidParam('encoding_format');
  return null;
}

/** Answers a fault model; false when the model asks for no fault at all or one the endpoint plays out. */
function answerFault(model: string, presentedKey: string, body: Json, res: ServerResponse): boolean {
  switch (model) {
    case 'fail-400':
      sendError(res, 400, "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.", 'invalid_request_error', 'max_tokens', 'integer_below_min_value');
      return true;
    case 'fail-401':
      sendError(res, 401, `Incorrect API key provided: ${maskKey(presentedKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', null, 'invalid_api_key');
      return true;
    case 'fail-429':
      sendError(res, 429, 'Rate limit reached for requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in 7s.', 'requests', null, 'rate_limit_exceeded', {
        'retry-after': '7',
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '7s',
      });
      return true;
    case 'fail-500':
      sendError(res, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null, null);
      return true;
    case 'leak-key-400':
      sendError(res, 400, `The key ${presentedKey} may not use this model.`, 'invalid_request_error', 'model', 'model_not_allowed');
      return true;
    case 'leak-key-500':
      sendError(res, 500, `Internal error while serving key ${presentedKey}.`, 'server_error', null, null);
      return true;
    case 'error-mid-stream':
      if (body.stream === true) return false;
      sendError(res, 500, MID_STREAM_ERROR.message, MID_STREAM_ERROR.type, null, MID_STREAM_ERROR.code);
      return true;
    case 'reset':
      res.socket?.destroy();
      return true;
    case 'hang':
      return true;
    case 'not-json':
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {this is not json\n\n');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>this is not json</html>');
      }
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------- writing answers

/** A whole JSON answer, or for the mid-stream faults half of one followed by silence or a reset. */
function sendWhole(exchange: Exchange, value: Json): void {
  const { res, model } = exchange;
  const text = JSON.stringify(value);
  if (model !== 'stall-mid-stream' && model !== 'reset-mid-stream') {
    sendJson(res, 200, value);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => {
    if (model === 'reset-mid-stream') res.socket?.destroy();
  });
}

/**
 * Sends server-sent events, each written in two halves (split inside the bytes, possibly inside
 * a UTF-8 sequence) so that readers must reassemble them. Paced, cut or stopped per the fault.
 */
function sendStream(exchange: Exchange, events: readonly Json[]): void {
  const { res, model, settings, timers } = exchange;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const frames = events.map((event) => `data: ${JSON.stringify(event)}\n\n`);
  frames.push('data: [DONE]\n\n');
  const writeFrame = (frame: string, done?: () => void) => {
    const bytes = Buffer.from(frame, 'utf8');
    const middle = Math.floor(bytes.length / 2);
    res.write(bytes.subarray(0, middle));
    res.write(bytes.subarray(middle), done);
  };
  if (model === 'error-mid-stream') {
    for (const frame of frames.slice(0, 1 + settings.chunksBeforeFault)) writeFrame(frame);
    writeFrame(`data: ${JSON.stringify({ error: { ...MID_STREAM_ERROR, param: null } })}\n\n`);
    res.end();
    return;
  }
  if (model === 'stall-mid-stream' || model === 'reset-mid-stream') {
    const sent = frames.slice(0, 1 + settings.chunksBeforeFault);
    sent.forEach((frame, index) =>
      writeFrame(frame, index === sent.length - 1 && model === 'reset-mid-stream' ? () => res.socket?.destroy() : undefined),
    );
    return;
  }
  if (model !== 'slow-stream') {
    for (const frame of frames) writeFrame(frame);
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
    writeFrame(frame);
    const timer = setTimeout(() => {
      timers.delete(timer);
      tick();
    }, settings.slowChunkMs);
    timers.add(timer);
  };
  res.on('close', () => {
    next = frames.length + 1;
  });
  tick();
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  param: string | null,
  code: string | null,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
}

function modelObject(id: string): Json {
  return { id, object: 'model', created: CREATED, owned_by: 'emulator' };
}

function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer\s+(.+)$/i.exec(authorization);
  return match === null ? null : match[1]!.trim();
}

/** How OpenAI shows a wrong key: the first and last few characters. */
function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}
