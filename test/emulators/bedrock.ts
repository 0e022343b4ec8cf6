import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { MessageHeaders } from '@smithy/types';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { argumentFragments, hash32, streamPieces } from './openai-answers.js';
import { answerEmbedding, checkConverse, embedModel, planConverse, type ConversePlan, type Refusal } from './bedrock-answers.js';

/**
 * A real HTTP/1.1 server that speaks Bedrock Runtime as an upstream of the gateway: Converse,
 * ConverseStream (binary `application/vnd.amazon.eventstream` frames, encoded with the same codec
 * the AWS SDK decodes with) and InvokeModel for Titan and Cohere embeddings. It verifies the
 * SigV4 signature of every request by recomputing it with the known secret, and answers 403 as
 * AWS does when it does not match — so a test that passes proves the caller signs correctly.
 *
 * Faults by model id: `fail-400`, `fail-401` (AWS answers bad credentials with 403
 * UnrecognizedClientException), `fail-403`, `fail-404`, `fail-408`, `fail-424`, `fail-429`
 * (retry-after: 7), `fail-500`, `fail-503`, `leak-400` (repeats the session token and secret);
 * on streams `stream-throttle` / `stream-validation` (an exception as the first frame),
 * `stream-model-error` / `stream-internal` (an exception after some text), `stream-cut` (ends
 * before messageStop), `stream-no-usage`, `stream-reset`, `stream-corrupt` (a CRC mismatch),
 * `stream-slow` and `stream-not-eventstream`.
 */

export interface BedrockEmulatorOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, every request must carry it, signed, as x-amz-security-token. */
  readonly sessionToken?: string;
  readonly region: string;
  /** Pause between the frames of `stream-slow`. */
  readonly slowFrameMs?: number;
}

export interface BedrockExchangeEnd {
  readonly aborted: boolean;
}

export interface BedrockRecordedRequest {
  readonly method: string;
  /** The path exactly as sent (still percent-encoded). */
  readonly path: string;
  readonly operation: 'converse' | 'converse-stream' | 'invoke' | null;
  /** The model id, decoded from the path. */
  readonly modelId: string | null;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  readonly body: unknown;
  /** Why the request was refused (bad signature, malformed body); null for a sane request. */
  problem: string | null;
  readonly closed: Promise<BedrockExchangeEnd>;
}

export interface BedrockEmulator {
  /** The endpoint to configure (no path). */
  readonly url: string;
  readonly requests: readonly BedrockRecordedRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** The message `fail-400` answers with. */
export const BAD_REQUEST_MESSAGE = 'Malformed input request: #/max_tokens: expected maximum: 4096, found: 100000, please reformat your input and try again.';

const FAULTS: Record<string, { status: number; type: string; message: string; headers?: Record<string, string> }> = {
  'fail-400': { status: 400, type: 'ValidationException', message: BAD_REQUEST_MESSAGE },
  'fail-401': { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
  'fail-403': { status: 403, type: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." },
  'fail-404': { status: 404, type: 'ResourceNotFoundException', message: 'Could not resolve the foundation model from the provided model identifier.' },
  'fail-408': { status: 408, type: 'ModelTimeoutException', message: 'Model has timed out in processing the request.' },
  'fail-424': { status: 424, type: 'ModelErrorException', message: 'The model produced an invalid response.' },
  'fail-429': { status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', headers: { 'retry-after': '7' } },
  'fail-500': { status: 500, type: 'InternalServerException', message: 'The server encountered an internal error while processing the request.' },
  'fail-503': { status: 503, type: 'ServiceUnavailableException', message: 'The service is temporarily unable to handle the request.' },
};

export async function startBedrockEmulator(options: BedrockEmulatorOptions): Promise<BedrockEmulator> {
  const requests: BedrockRecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;
  const server = createServer((req, res) => {
    const closed = new Promise<BedrockExchangeEnd>((resolve) => res.on('close', () => resolve({ aborted: !res.writableFinished })));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordRequest(req, Buffer.concat(chunks), closed);
      requests.push(record);
      res.setHeader('x-amzn-requestid', `0b1e5c0d-0000-4000-8000-${(++counter).toString(16).padStart(12, '0')}`);
      answer(record, res, options, timers).catch((error: unknown) => {
        record.problem = `emulator failure: ${String(error)}`;
        sendError(res, 500, 'InternalServerException', 'The emulator failed.');
      });
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

function recordRequest(req: IncomingMessage, rawBody: Buffer, closed: Promise<BedrockExchangeEnd>): BedrockRecordedRequest {
  const path = (req.url ?? '/').split('?')[0]!;
  const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
  let modelId: string | null = null;
  try {
    modelId = match === null ? null : decodeURIComponent(match[1]!);
  } catch {
    modelId = null;
  }
  let body: unknown;
  try {
    body = rawBody.length > 0 ? JSON.parse(rawBody.toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  const operation = match === null ? null : (match[2] as BedrockRecordedRequest['operation']);
  return { method: req.method ?? '', path, operation, modelId, headers: req.headers, rawBody, body, problem: null, closed };
}

async function answer(record: BedrockRecordedRequest, res: ServerResponse, options: BedrockEmulatorOptions, timers: Set<NodeJS.Timeout>): Promise<void> {
  const refused = await checkSignature(record, options);
  if (refused !== null) return refuse(record, res, 403, refused);
  if (record.method !== 'POST' || record.operation === null || record.modelId === null) {
    return refuse(record, res, 404, { type: 'UnknownOperationException', message: `No operation at ${record.method} ${record.path}` });
  }
  const modelId = record.modelId;
  const fault = FAULTS[modelId];
  if (fault !== undefined) return sendError(res, fault.status, fault.type, fault.message, fault.headers);
  if (modelId === 'leak-400') {
    return sendError(res, 400, 'ValidationException', `Token ${options.sessionToken ?? ''} and key ${options.secretAccessKey} may not use this model.`);
  }
  if (!(record.headers['content-type'] ?? '').startsWith('application/json')) {
    return refuse(record, res, 400, { type: 'ValidationException', message: 'The request content type must be application/json.' });
  }
  if (record.body === undefined) return refuse(record, res, 400, { type: 'SerializationException', message: 'The request body is not valid JSON.' });
  if (record.operation === 'invoke') return answerInvoke(record, res);
  if (embedModel(modelId) !== null) {
    return refuse(record, res, 400, { type: 'ValidationException', message: "This action doesn't support the model that you provided. Try again with a supported text or chat model." });
  }
  const problem = checkConverse(record.body);
  if (problem !== null) return refuse(record, res, 400, problem);
  const plan = planConverse(record.body as Json, modelId);
  if (record.operation === 'converse') return sendJson(res, 200, converseAnswer(plan));
  sendFrames(res, modelId, streamFrames(plan, modelId), options.slowFrameMs ?? 20, timers);
}

function answerInvoke(record: BedrockRecordedRequest, res: ServerResponse): void {
  const kind = embedModel(record.modelId!);
  if (kind === null) return refuse(record, res, 400, { type: 'ValidationException', message: 'The emulator serves InvokeModel for Titan and Cohere embedding models only.' });
  const accept = record.headers.accept;
  if (accept !== undefined && accept !== 'application/json' && accept !== '*/*') {
    return refuse(record, res, 400, { type: 'ValidationException', message: `The model answers with application/json, not ${accept}.` });
  }
  const result = answerEmbedding(kind, record.body);
  if ('refusal' in result) return refuse(record, res, 400, result.refusal);
  const text = JSON.stringify(result.answer);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-bedrock-input-token-count': String(result.inputTokens) });
  res.end(text);
}

// ---------------------------------------------------------------- signature

/**
 * Recomputes the request's SigV4 signature over exactly the headers it says it signed, with the
 * known secret, and compares. Also checks what AWS checks around it: the key id, the credential
 * scope, the clock (15 minutes), the session token and the body hash.
 */
async function checkSignature(record: BedrockRecordedRequest, options: BedrockEmulatorOptions): Promise<Refusal | null> {
  const headers = record.headers;
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
    headers.authorization ?? '',
  );
  if (match === null) return { type: 'IncompleteSignatureException', message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
  const [, keyId, day, region, service, signedList, signature] = match as unknown as [string, string, string, string, string, string, string];
  if (keyId !== options.accessKeyId) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (service !== 'bedrock' || region !== options.region) {
    return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region and service 'bedrock', not '${region}/${service}'.` };
  }
  const amzDate = typeof headers['x-amz-date'] === 'string' ? headers['x-amz-date'] : '';
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === null || !amzDate.startsWith(day)) return { type: 'IncompleteSignatureException', message: 'The request needs a valid x-amz-date matching its credential scope.' };
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return { type: 'InvalidSignatureException', message: 'Signature expired: the request time is too far from the server time.' };
  const signed = signedList.split(';');
  for (const required of ['host', 'x-amz-date', ...(options.sessionToken === undefined ? [] : ['x-amz-security-token'])]) {
    if (!signed.includes(required)) return { type: 'InvalidSignatureException', message: `The header ${required} must be signed.` };
  }
  if (options.sessionToken !== undefined && headers['x-amz-security-token'] !== options.sessionToken) {
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  const bodyHash = createHash('sha256').update(record.rawBody).digest('hex');
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== bodyHash) return { type: 'InvalidSignatureException', message: 'The x-amz-content-sha256 header does not match the body.' };
  const toSign: Record<string, string> = {};
  for (const name of signed) {
    const value = headers[name];
    if (value === undefined) return { type: 'InvalidSignatureException', message: `The signed header ${name} is missing.` };
    toSign[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const tokenSigned = signed.includes('x-amz-security-token') ? toSign['x-amz-security-token'] : undefined;
  const signer = new SignatureV4({
    service: 'bedrock',
    region,
    credentials: { accessKeyId: keyId, secretAccessKey: options.secretAccessKey, ...(tokenSigned === undefined ? {} : { sessionToken: tokenSigned }) },
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const expected = await signer.sign(
    { method: record.method, protocol: 'http:', hostname: '127.0.0.1', path: record.path, query: {}, headers: toSign, body: new Uint8Array(record.rawBody) },
    { signingDate, signableHeaders: new Set(signed) },
  );
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(expected.headers.authorization ?? '')?.[1] ?? '';
  if (expectedSignature.length !== signature.length || !timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature))) {
    return {
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return null;
}

function parseAmzDate(value: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

// ---------------------------------------------------------------- answers

function converseAnswer(plan: ConversePlan): Json {
  const content: Json[] = [];
  if (plan.text !== null) content.push({ text: plan.text });
  if (plan.tool !== null) content.push({ toolUse: { toolUseId: plan.tool.id, name: plan.tool.name, input: plan.tool.input } });
  return { output: { message: { role: 'assistant', content } }, stopReason: plan.stopReason, usage: plan.usage, metrics: { latencyMs: 42 } };
}

type Frame = { kind: 'event'; type: string; payload: Json } | { kind: 'exception'; type: string; payload: Json };

/** The events of a streamed answer, as ConverseStream sends them (without faults). */
export function converseEvents(plan: ConversePlan, extraDeltas = 0): Frame[] {
  const events: Frame[] = [{ kind: 'event', type: 'messageStart', payload: { role: 'assistant' } }];
  let block = 0;
  if (plan.text !== null) {
    const pieces = [...streamPieces(plan.text), ...Array.from({ length: extraDeltas }, (_, k) => ` tick${k + 1}`)];
    for (const text of pieces) events.push({ kind: 'event', type: 'contentBlockDelta', payload: { contentBlockIndex: block, delta: { text } } });
    events.push({ kind: 'event', type: 'contentBlockStop', payload: { contentBlockIndex: block } });
    block++;
  }
  if (plan.tool !== null) {
    const { id, name, input } = plan.tool;
    events.push({ kind: 'event', type: 'contentBlockStart', payload: { contentBlockIndex: block, start: { toolUse: { toolUseId: id, name } } } });
    for (const fragment of argumentFragments(JSON.stringify(input))) {
      events.push({ kind: 'event', type: 'contentBlockDelta', payload: { contentBlockIndex: block, delta: { toolUse: { input: fragment } } } });
    }
    events.push({ kind: 'event', type: 'contentBlockStop', payload: { contentBlockIndex: block } });
  }
  events.push({ kind: 'event', type: 'messageStop', payload: { stopReason: plan.stopReason } });
  events.push({ kind: 'event', type: 'metadata', payload: { usage: plan.usage, metrics: { latencyMs: 42 } } });
  return events;
}

function exception(type: string, message: string, extra: Json = {}): Frame {
  return { kind: 'exception', type, payload: { message, ...extra } };
}

/** The frames a model id streams: the answer, or the answer bent by a stream fault. */
function streamFrames(plan: ConversePlan, modelId: string): Frame[] {
  const events = converseEvents(plan, modelId === 'stream-slow' ? 500 : 0);
  switch (modelId) {
    case 'stream-throttle':
      return [exception('throttlingException', 'Too many tokens, please wait before trying again.')];
    case 'stream-validation':
      return [exception('validationException', 'Input is too long for requested model.')];
    case 'stream-model-error':
      return [...events.slice(0, 3), exception('modelStreamErrorException', 'The model stream failed.', { originalStatusCode: 500, originalMessage: 'boom' })];
    case 'stream-internal':
      return [...events.slice(0, 2), exception('internalServerException', 'The server encountered an internal error.')];
    case 'stream-cut':
      return events.slice(0, -2);
    case 'stream-no-usage':
      return events.slice(0, -1);
    default:
      return events;
  }
}

const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One frame's bytes; events carry Bedrock's `p` padding field, which hides the token lengths. */
export function encodeFrame(frame: Frame): Uint8Array {
  const str = (value: string) => ({ type: 'string' as const, value });
  const headers: MessageHeaders =
    frame.kind === 'event'
      ? { ':event-type': str(frame.type), ':content-type': str('application/json'), ':message-type': str('event') }
      : { ':exception-type': str(frame.type), ':content-type': str('application/json'), ':message-type': str('exception') };
  const payload = frame.kind === 'event' ? { ...frame.payload, p: PADDING.slice(0, 1 + (hash32(JSON.stringify(frame.payload)) % 40)) } : frame.payload;
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}

/** Write sizes that cut frames (and their preludes) at ever different places. */
const CUTS = [5, 17, 64, 3, 200, 1, 31];

function sendFrames(res: ServerResponse, modelId: string, frames: Frame[], slowMs: number, timers: Set<NodeJS.Timeout>): void {
  if (modelId === 'stream-not-eventstream') return sendJson(res, 200, { note: 'not an event stream' });
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'transfer-encoding': 'chunked' });
  const encoded = frames.map(encodeFrame);
  if (modelId === 'stream-corrupt') encoded[1]![encoded[1]!.length - 6]! ^= 0xff;
  if (modelId === 'stream-slow') {
    let index = 0;
    const next = () => {
      if (res.destroyed) return;
      if (index === encoded.length) return void res.end();
      res.write(encoded[index++]);
      const timer = setTimeout(() => {
        timers.delete(timer);
        next();
      }, slowMs);
      timers.add(timer);
    };
    return next();
  }
  const bytes = Buffer.concat(modelId === 'stream-reset' ? encoded.slice(0, 3) : encoded);
  for (let offset = 0, cut = 0; offset < bytes.length; cut++) {
    const size = CUTS[cut % CUTS.length]!;
    res.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  if (modelId === 'stream-reset') res.write(Buffer.alloc(0), () => res.socket?.destroy());
  else res.end();
}

// ---------------------------------------------------------------- plain answers

function refuse(record: BedrockRecordedRequest, res: ServerResponse, status: number, refusal: Refusal): void {
  record.problem = `${refusal.type}: ${refusal.message}`;
  sendError(res, status, refusal.type, refusal.message);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    ...headers,
  });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
