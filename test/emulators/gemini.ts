import { createVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { planMessage, streamEvents } from './anthropic-answers.js';
import { checkMessagesRequest, Invalid } from './anthropic-requests.js';
import { countTokens, planGenerate } from './gemini-answers.js';
import { checkEmbedContent, checkGenerateContent, checkPredict, GoogleInvalid, object } from './gemini-checks.js';

/**
 * A real HTTP server that speaks Google's generative APIs as an upstream of the gateway:
 *
 * - the Gemini API: `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
 *   `:embedContent`, `:batchEmbedContents`, with `x-goog-api-key` (or `?key=`);
 * - Vertex AI: `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`,
 *   `:streamGenerateContent?alt=sse`, `:predict` (embeddings), and `publishers/anthropic/…:rawPredict`
 *   / `:streamRawPredict` (Claude, Anthropic's Messages format), with `Authorization: Bearer` tokens
 *   it issued itself at
 * - `POST /token`: Google's OAuth2 JWT-bearer exchange; it verifies the assertion's RS256
 *   signature with the service account's public key and its claims (iss, aud, scope, iat, exp).
 *
 * Requests are checked strictly (gemini-checks.ts); answers are deterministic (gemini-answers.ts).
 * Faults are chosen by the model id: `fail-400`, `fail-401`, `fail-403`, `fail-429` (retry-after: 7
 * and RetryInfo 7s), `fail-429-retryinfo` (RetryInfo 12s only), `fail-500`, `fail-503`,
 * `leak-key-400` (repeats the presented key), `error-mid-stream`; behaviours: `blocked` (prompt
 * blocked), `safety` (candidate stopped for safety), `thinking…` (thought parts and signatures,
 * and signatures required back, as Gemini 3 does).
 */

export interface GeminiEmulatorOptions {
  /** Gemini API: every request must carry this key. */
  readonly apiKey?: string;
  /** Vertex AI: the service account whose JWTs /token accepts; only tokens it issued are then accepted. */
  readonly serviceAccount?: { readonly clientEmail: string; readonly publicKey: KeyObject | string };
  /** Lifetime of issued access tokens. */
  readonly tokenLifetimeS?: number;
  /** Length of embeddings without `outputDimensionality`. */
  readonly embeddingDimensions?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** Why the emulator refused it; null for a sane request. */
  problem: string | null;
}

export interface TokenGrant {
  readonly claims: Record<string, unknown>;
  readonly token: string;
}

export interface GeminiEmulator {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** The Gemini API root, `${url}/v1beta`. */
  readonly geminiBaseUrl: string;
  /** Where service accounts exchange their JWTs. */
  readonly tokenUri: string;
  readonly requests: readonly RecordedRequest[];
  /** Every access token issued, with the verified claims of its assertion. */
  readonly grants: readonly TokenGrant[];
  /** Makes every token issued so far invalid (as if it expired). */
  revokeTokens(): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

export const BAD_REQUEST_MESSAGE = 'Request contains an invalid argument.';
export const MID_STREAM_ERROR = { code: 500, message: 'An internal error has occurred. Please retry.', status: 'INTERNAL' } as const;
const GEMINI_PATH = /^\/v1beta\/((?:models|tunedModels)\/[^/:]+):([A-Za-z]+)$/;
const VERTEX_PATH = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/;

interface Settings {
  readonly apiKey: string | undefined;
  readonly account: GeminiEmulatorOptions['serviceAccount'];
  readonly tokenLifetimeS: number;
  readonly dimensions: number;
  readonly tokens: Map<string, number>;
  readonly grants: TokenGrant[];
  tokenUri: string;
}

export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const settings: Settings = {
    apiKey: options.apiKey,
    account: options.serviceAccount,
    tokenLifetimeS: options.tokenLifetimeS ?? 3600,
    dimensions: options.embeddingDimensions ?? 8,
    tokens: new Map(),
    grants: [],
    tokenUri: '',
  };
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordRequest(req, Buffer.concat(chunks).toString('utf8'));
      requests.push(record);
      try {
        route(record, res, settings);
      } catch (error) {
        if (!(error instanceof GoogleInvalid)) throw error;
        record.problem = error.message;
        sendGoogleError(res, error.status, error.statusName, error.message, error.details);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  settings.tokenUri = `${url}/token`;
  return {
    url,
    geminiBaseUrl: `${url}/v1beta`,
    tokenUri: settings.tokenUri,
    requests,
    grants: settings.grants,
    revokeTokens: () => settings.tokens.clear(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function recordRequest(req: IncomingMessage, rawBody: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://emulator');
  let body: unknown;
  if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
  } else body = rawBody;
  return { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, problem: null };
}

function route(record: RecordedRequest, res: ServerResponse, settings: Settings): void {
  if (record.method === 'POST' && record.path === '/token') return issueToken(record, res, settings);
  const gemini = GEMINI_PATH.exec(record.path);
  const vertex = VERTEX_PATH.exec(record.path);
  if (record.method !== 'POST' || (gemini === null && vertex === null)) {
    throw new GoogleInvalid(`The requested URL ${record.path} was not found on this server.`, 404, 'NOT_FOUND');
  }
  if (gemini !== null) {
    const presented = headerValue(record.headers['x-goog-api-key']) ?? record.query.key ?? null;
    checkApiKey(presented, settings);
    return answerGoogle(record, res, settings, { model: gemini[1]!.replace(/^(models|tunedModels)\//, ''), resource: gemini[1]!, method: gemini[2]!, key: presented, vertex: false });
  }
  const [, , , publisher, model, method] = vertex!;
  const token = checkBearer(record.headers.authorization, settings);
  if (publisher === 'anthropic') return answerAnthropic(record, res, model!, method!);
  return answerGoogle(record, res, settings, { model: model!, resource: `publishers/google/models/${model}`, method: method!, key: token, vertex: true });
}

function headerValue(value: string | string[] | undefined): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function checkApiKey(presented: string | null, settings: Settings): void {
  if (settings.apiKey === undefined) return;
  if (presented === null) {
    throw new GoogleInvalid('Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.', 403, 'PERMISSION_DENIED');
  }
  // Google answers a wrong key with a 400 whose details give the reason.
  if (presented !== settings.apiKey) {
    throw new GoogleInvalid('API key not valid. Please pass a valid API key.', 400, 'INVALID_ARGUMENT', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
    ]);
  }
}

function checkBearer(authorization: string | undefined, settings: Settings): string {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  const expires = token === undefined ? undefined : settings.tokens.get(token);
  const valid = token !== undefined && (settings.account === undefined || (expires !== undefined && expires > Date.now()));
  if (!valid) {
    throw new GoogleInvalid(
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      401,
      'UNAUTHENTICATED',
    );
  }
  return token;
}

interface GoogleCall {
  readonly model: string;
  /** `models/x` or `publishers/google/models/x`. */
  readonly resource: string;
  readonly method: string;
  /** The key or token presented, for `leak-key-400`. */
  readonly key: string | null;
  readonly vertex: boolean;
}

function answerGoogle(record: RecordedRequest, res: ServerResponse, settings: Settings, call: GoogleCall): void {
  if (!(record.headers['content-type'] ?? '').startsWith('application/json')) throw new GoogleInvalid('Invalid JSON payload received. Expected a JSON body.');
  if (record.body === undefined) throw new GoogleInvalid('Invalid JSON payload received. Unexpected token.');
  const streaming = call.method === 'streamGenerateContent';
  if (call.method === 'generateContent' || streaming) {
    if (streaming && record.query.alt !== 'sse') throw new GoogleInvalid('This emulator streams only with alt=sse.');
    checkGenerateContent(record.body, { thinking: call.model.startsWith('thinking') });
    if (answerFault(call, res, streaming)) return;
    const plan = planGenerate(record.body as Json, call.model);
    if (streaming) sendSse(res, plan.chunks, call.model === 'error-mid-stream');
    else sendJson(res, 200, plan.whole);
    return;
  }
  if (!call.vertex && (call.method === 'embedContent' || call.method === 'batchEmbedContents')) {
    const body = object(record.body, 'request');
    const texts =
      call.method === 'embedContent'
        ? [checkEmbedContent(body, 'EmbedContentRequest', null)]
        : ((Array.isArray(body.requests) && body.requests.length > 0 ? body.requests : [null]) as unknown[]).map((one, index) => checkEmbedContent(one, `requests[${index}]`, call.resource));
    if (answerFault(call, res, false)) return;
    const dimensionsOf = (one: unknown) => ((one as Json | null)?.outputDimensionality as number | undefined) ?? settings.dimensions;
    if (call.method === 'embedContent') sendJson(res, 200, { embedding: { values: embeddingVector(texts[0]!, dimensionsOf(body)) } });
    else sendJson(res, 200, { embeddings: texts.map((text, index) => ({ values: embeddingVector(text, dimensionsOf((body.requests as unknown[])[index])) })) });
    return;
  }
  if (call.vertex && call.method === 'predict') {
    const { texts, dimensions } = checkPredict(record.body);
    if (answerFault(call, res, false)) return;
    sendJson(res, 200, {
      predictions: texts.map((text) => ({ embeddings: { values: embeddingVector(text, dimensions ?? settings.dimensions), statistics: { token_count: countTokens(text), truncated: false } } })),
      metadata: { billableCharacterCount: texts.join('').length },
    });
    return;
  }
  throw new GoogleInvalid(`Method ${call.method} is not served for ${call.resource}.`, 404, 'NOT_FOUND');
}

/** The embedding of a text: multiples of 1/64, so float32 (base64) carries them exactly. */
export function embeddingVector(text: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < dimensions; k++) {
    let h = 0x811c9dc5;
    const seed = `${text}:${k}`;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    out.push((((h >>> 0) & 0xff) - 128) / 64);
  }
  return out;
}

function answerFault(call: GoogleCall, res: ServerResponse, streaming: boolean): boolean {
  switch (call.model) {
    case 'fail-400':
      sendGoogleError(res, 400, 'INVALID_ARGUMENT', BAD_REQUEST_MESSAGE);
      return true;
    case 'fail-401':
      sendGoogleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      return true;
    case 'fail-403':
      sendGoogleError(res, 403, 'PERMISSION_DENIED', `Permission denied on resource project ${call.vertex ? 'emu-project' : 'generativelanguage'}.`);
      return true;
    case 'fail-429':
      sendGoogleError(res, 429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [retryInfo('7s')], { 'retry-after': '7' });
      return true;
    case 'fail-429-retryinfo':
      sendGoogleError(res, 429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [retryInfo('11.2s')]);
      return true;
    case 'fail-500':
      sendGoogleError(res, 500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting');
      return true;
    case 'fail-503':
      sendGoogleError(res, 503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      return true;
    case 'leak-key-400':
      sendGoogleError(res, 400, 'INVALID_ARGUMENT', `The credential ${call.key ?? ''} may not use this model.`);
      return true;
    case 'error-mid-stream':
      if (streaming) return false;
      sendGoogleError(res, 500, MID_STREAM_ERROR.status, MID_STREAM_ERROR.message);
      return true;
    default:
      return false;
  }
}

function retryInfo(delay: string): Json {
  return { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay };
}

// ---------------------------------------------------------------- Claude on Vertex AI

/** `:rawPredict` / `:streamRawPredict`: Anthropic's Messages body with Vertex's version and no model. */
function answerAnthropic(record: RecordedRequest, res: ServerResponse, model: string, method: string): void {
  if (method !== 'rawPredict' && method !== 'streamRawPredict') throw new GoogleInvalid(`Method ${method} is not served for Anthropic models.`, 404, 'NOT_FOUND');
  if (model === 'fail-429') {
    sendGoogleError(res, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.', [], { 'retry-after': '7' });
    return;
  }
  if (model === 'fail-401') throw new GoogleInvalid('Request had invalid authentication credentials.', 401, 'UNAUTHENTICATED');
  try {
    const body = object(record.body, 'request');
    if (body.anthropic_version !== 'vertex-2023-10-16') throw new Invalid('anthropic_version: Input should be \'vertex-2023-10-16\'');
    if (body.model !== undefined) throw new Invalid('model: Extra inputs are not permitted');
    const { anthropic_version: _version, ...rest } = body;
    checkMessagesRequest({ ...rest, model }, '2023-06-01');
    const streaming = method === 'streamRawPredict';
    if ((body.stream === true) !== streaming) throw new Invalid(`stream: must be ${streaming} for ${method}`);
    if (model === 'fail-400') throw new Invalid('prompt is too long: 212345 tokens > 200000 maximum');
    if (model === 'fail-500') {
      sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } });
      return;
    }
    const message = planMessage({ ...rest, model }, model);
    if (!streaming) {
      sendJson(res, 200, message);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of streamEvents(message)) res.write(`event: ${event.type as string}\ndata: ${JSON.stringify(event)}\n\n`);
    res.end();
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    record.problem = error.message;
    sendJson(res, error.status, { type: 'error', error: { type: error.type, message: error.message } });
  }
}

// ---------------------------------------------------------------- OAuth2 token endpoint

function issueToken(record: RecordedRequest, res: ServerResponse, settings: Settings): void {
  const refuse = (description: string) => {
    record.problem = description;
    sendJson(res, 400, { error: 'invalid_grant', error_description: description });
  };
  if (!(record.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return refuse('Bad Request');
  const form = new URLSearchParams(typeof record.body === 'string' ? record.body : '');
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse('Invalid grant_type.');
  const account = settings.account;
  if (account === undefined) return refuse('No service account is known to this emulator.');
  const parts = (form.get('assertion') ?? '').split('.');
  if (parts.length !== 3) return refuse('Invalid JWT.');
  const [header, claims] = parts.slice(0, 2).map((part) => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;
    } catch {
      return null;
    }
  });
  if (header === null || claims === null || header?.alg !== 'RS256') return refuse('Invalid JWT header.');
  const verifier = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`);
  if (!verifier.verify(account.publicKey, Buffer.from(parts[2]!, 'base64url'))) return refuse('Invalid JWT Signature.');
  const now = Math.floor(Date.now() / 1000);
  const iat = claims!.iat as number;
  const exp = claims!.exp as number;
  if (claims!.iss !== account.clientEmail) return refuse('Invalid issuer.');
  if (claims!.aud !== settings.tokenUri) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
  if (typeof claims!.scope !== 'string' || !claims!.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')) return refuse('Invalid scope.');
  if (!Number.isInteger(iat) || !Number.isInteger(exp) || Math.abs(iat - now) > 300 || exp <= now || exp - iat > 3600) {
    return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
  }
  const token = `ya29.emu-${settings.grants.length + 1}-${now}`;
  settings.tokens.set(token, Date.now() + settings.tokenLifetimeS * 1000);
  settings.grants.push({ claims: claims!, token });
  sendJson(res, 200, { access_token: token, expires_in: settings.tokenLifetimeS, token_type: 'Bearer' });
}

// ---------------------------------------------------------------- writing answers

/** Server-sent events as Google sends them (`data: …\r\n\r\n`, no [DONE]), each frame in two halves. */
function sendSse(res: ServerResponse, chunks: readonly Json[], failMidway: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const frames = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`);
  const sent = failMidway ? frames.slice(0, 2) : frames;
  if (failMidway) sent.push(`data: ${JSON.stringify({ error: MID_STREAM_ERROR })}\r\n\r\n`);
  for (const frame of sent) {
    const bytes = Buffer.from(frame, 'utf8');
    const middle = Math.floor(bytes.length / 2);
    res.write(bytes.subarray(0, middle));
    res.write(bytes.subarray(middle));
  }
  res.end();
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendGoogleError(res: ServerResponse, status: number, statusName: string, message: string, details: readonly Json[] = [], headers: Record<string, string> = {}): void {
  const error: Json = { code: status, message, status: statusName };
  if (details.length > 0) error.details = details;
  sendJson(res, status, { error }, headers);
}
