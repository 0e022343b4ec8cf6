import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { subjectOf } from './openai-answers.js';
import { chatCompletion, chatCompletionChunks, embeddingList, textCompletion, textCompletionChunks } from './openai-bodies.js';

/**
 * A real HTTP server that plays Azure OpenAI (data plane) and the Microsoft Entra ID token
 * endpoint, written from Azure's REST reference:
 *
 * - `POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=…`
 *   (the deployment chooses the model) and `POST /openai/v1/{…}` (the body's `model` does);
 * - auth by `api-key: <key>`, or `Authorization: Bearer <token>` with a token this emulator issued
 *   and that has not expired; the v1 API also takes the key as a bearer token;
 * - `POST /{tenant}/oauth2/v2.0/token` (client credentials), issuing tokens of `tokenLifetimeS`;
 * - answers in OpenAI's shape with Azure's content-filter annotations: `prompt_filter_results` on
 *   whole answers and on a first stream chunk of its own (with `"object": ""`, as Azure sends it),
 *   `content_filter_results` on every choice;
 * - Azure's error bodies (`{"error": {"code", "message", …}}`): an unknown top-level field is a
 *   400 "Unrecognized request argument", so is `stream_options` before api-version 2024-09-01-preview.
 *
 * Faults by deployment name (or, in the v1 form, model): `fail-400`, `fail-401`, `fail-429`
 * (retry-after: 7), `fail-500`, `content-filter` (the 400 with `innererror`), `filtered-output` (an
 * answer cut by the output filter, finish_reason "content_filter"), `missing` (404
 * DeploymentNotFound). A user message containing `FILTER-ME` gets the content-filter 400 too.
 */

export const AZURE_ANSWER_MODEL = 'gpt-4o-2024-11-20';
export const TENANT = 'contoso.onmicrosoft.com';
export const CLIENT_ID = '00000000-1111-2222-3333-444444444444';

export interface AzureEmulatorOptions {
  readonly apiKey: string;
  readonly clientSecret?: string;
  /** expires_in of issued tokens. */
  readonly tokenLifetimeS?: number;
  /** Delay before the token endpoint answers (to let concurrent requests pile up). */
  readonly tokenDelayMs?: number;
}

export interface AzureRecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: unknown;
  problem: string | null;
}

export interface AzureEmulator {
  /** The resource endpoint (origin), e.g. http://127.0.0.1:1234. */
  readonly url: string;
  readonly requests: readonly AzureRecordedRequest[];
  readonly tokenRequests: readonly AzureRecordedRequest[];
  /** Makes the token endpoint answer with this status and Entra error until set to null. */
  failTokens(status: number | null): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const CHAT_FIELDS = new Set([
  'model', 'messages', 'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias', 'logprobs', 'max_completion_tokens',
  'max_tokens', 'metadata', 'modalities', 'n', 'parallel_tool_calls', 'prediction', 'presence_penalty', 'reasoning_effort',
  'response_format', 'seed', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_logprobs',
  'top_p', 'user', 'data_sources', 'user_security_context',
]);
const EMBEDDING_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'input_type']);
const COMPLETION_FIELDS = new Set([
  'model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'n', 'stream', 'stream_options', 'stop', 'logprobs', 'echo', 'best_of',
  'frequency_penalty', 'presence_penalty', 'logit_bias', 'user', 'suffix', 'seed',
]);
const OPERATIONS: Record<string, Set<string>> = { 'chat/completions': CHAT_FIELDS, completions: COMPLETION_FIELDS, embeddings: EMBEDDING_FIELDS };

const SAFE = { filtered: false, severity: 'safe' };
const CATEGORIES = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const PROMPT_FILTER = [{ prompt_index: 0, content_filter_results: { ...CATEGORIES, jailbreak: { filtered: false, detected: false } } }];
const OUTPUT_FILTER = {
  ...CATEGORIES,
  protected_material_code: { filtered: false, detected: false },
  protected_material_text: { filtered: false, detected: false },
};

export async function startAzureEmulator(options: AzureEmulatorOptions): Promise<AzureEmulator> {
  const requests: AzureRecordedRequest[] = [];
  const tokenRequests: AzureRecordedRequest[] = [];
  const tokens = new Map<string, number>();
  let tokenFailure: number | null = null;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const record: AzureRecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody,
        body: parseJson(rawBody),
        problem: null,
      };
      if (url.pathname.endsWith('/oauth2/v2.0/token')) {
        tokenRequests.push(record);
        const answer = () => answerToken(record, res, { options, tokens, failure: tokenFailure });
        if (options.tokenDelayMs) setTimeout(answer, options.tokenDelayMs);
        else answer();
        return;
      }
      requests.push(record);
      answerApi(record, res, options, tokens);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokenRequests,
    failTokens(status) {
      tokenFailure = status;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- Entra ID

interface TokenState {
  readonly options: AzureEmulatorOptions;
  readonly tokens: Map<string, number>;
  readonly failure: number | null;
}

function answerToken(record: AzureRecordedRequest, res: ServerResponse, state: TokenState): void {
  const form = new URLSearchParams(record.rawBody);
  const tenant = decodeURIComponent(record.path.split('/')[1] ?? '');
  const entraError = (status: number, error: string, description: string) => {
    record.problem = description;
    sendJson(res, status, {
      error,
      error_description: `${description}\r\nTrace ID: 0f1e2d3c\r\nCorrelation ID: 4b5a6978\r\nTimestamp: 2025-01-01 00:00:00Z`,
      error_codes: [Number(description.slice(6, 13))],
      timestamp: '2025-01-01 00:00:00Z',
    });
  };
  if (state.failure !== null) return entraError(state.failure, 'temporarily_unavailable', 'AADSTS5000011: The service is temporarily unavailable.');
  if (record.method !== 'POST' || !String(record.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
    return entraError(400, 'invalid_request', 'AADSTS9000410: Malformed JSON / form body.');
  }
  if (tenant !== TENANT) return entraError(400, 'invalid_request', `AADSTS9000202: Tenant '${tenant}' not found.`);
  if (form.get('grant_type') !== 'client_credentials') return entraError(400, 'unsupported_grant_type', 'AADSTS7000001: Unsupported grant type.');
  if (form.get('client_id') !== CLIENT_ID) return entraError(400, 'unauthorized_client', `AADSTS7000002: Application with identifier '${form.get('client_id')}' was not found.`);
  if (form.get('client_secret') !== (state.options.clientSecret ?? 'entra-secret')) {
    return entraError(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided (${form.get('client_secret')}).`);
  }
  if (form.get('scope') !== 'https://cognitiveservices.azure.com/.default') {
    return entraError(400, 'invalid_scope', `AADSTS1002012: The provided value for scope ${form.get('scope')} is not valid.`);
  }
  const lifetime = state.options.tokenLifetimeS ?? 3599;
  const token = `eyJ0eXAiOiJKV1Qi.emu.${randomBytes(12).toString('base64url')}`;
  state.tokens.set(token, Date.now() + lifetime * 1_000);
  sendJson(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
}

// ---------------------------------------------------------------- OpenAI data plane

interface Target {
  readonly operation: string;
  /** The deployment (deployment form) or the body's model (v1 form) that picks the answer. */
  readonly model: string;
  readonly v1: boolean;
  readonly apiVersion: string | null;
}

function answerApi(record: AzureRecordedRequest, res: ServerResponse, options: AzureEmulatorOptions, tokens: Map<string, number>): void {
  const fail = (status: number, code: string, message: string, extra: Json = {}, headers: Record<string, string> = {}) => {
    record.problem = message;
    sendJson(res, status, { error: { code, message, ...extra } }, headers);
  };
  const deploymentForm = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(record.path);
  const v1Form = /^\/openai\/v1\/(chat\/completions|completions|embeddings)$/.exec(record.path);
  if (record.method !== 'POST' || (deploymentForm === null && v1Form === null)) return fail(404, '404', 'Resource not found');
  const apiVersion = record.query.get('api-version');
  if (deploymentForm !== null && apiVersion === null) {
    return fail(404, '404', 'Resource not found');
  }
  if (deploymentForm !== null && !/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion!)) {
    return fail(400, 'BadRequest', `API version not supported: ${apiVersion}`);
  }
  if (v1Form !== null && apiVersion !== null && apiVersion !== 'preview' && apiVersion !== 'latest') {
    return fail(400, 'BadRequest', `API version not supported: ${apiVersion}`);
  }
  if (!authorized(record.headers, options.apiKey, tokens, v1Form !== null)) {
    return fail(401, '401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
  }
  if (!String(record.headers['content-type'] ?? '').startsWith('application/json')) return fail(415, 'UnsupportedMediaType', 'Content-Type must be application/json');
  const body = record.body as Json | undefined;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return fail(400, 'BadRequest', 'The request body is not valid JSON.');
  }
  const operation = (deploymentForm?.[2] ?? v1Form?.[1])!;
  const model = deploymentForm !== null ? decodeURIComponent(deploymentForm[1]!) : body.model;
  if (typeof model !== 'string' || model.length === 0) return fail(400, 'BadRequest', "Missing required parameter: 'model'.", { param: 'model', type: 'invalid_request_error' });
  const target: Target = { operation, model, v1: v1Form !== null, apiVersion };
  const problem = checkBody(body, target);
  if (problem !== null) return fail(400, problem.code ?? 'invalid_request_error', problem.message, { param: problem.param, type: 'invalid_request_error' });
  if (answerFault(target, body, fail)) return;
  sendAnswer(target, body, res);
}

function authorized(headers: IncomingHttpHeaders, apiKey: string, tokens: Map<string, number>, v1: boolean): boolean {
  if (headers['api-key'] !== undefined) return headers['api-key'] === apiKey;
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
  if (bearer === undefined) return false;
  const expires = tokens.get(bearer);
  if (expires !== undefined) return Date.now() < expires;
  return v1 && bearer === apiKey;
}

interface Problem {
  readonly message: string;
  readonly param: string | null;
  readonly code?: string;
}

function checkBody(body: Json, target: Target): Problem | null {
  const known = OPERATIONS[target.operation]!;
  for (const field of Object.keys(body)) {
    if (!known.has(field)) return { message: `Unrecognized request argument supplied: ${field}`, param: null };
  }
  // stream_options came with 2024-09-01-preview; older dated versions refuse it.
  if (body.stream_options !== undefined && target.apiVersion !== null && !target.v1 && target.apiVersion < '2024-09-01') {
    return { message: 'Unrecognized request argument supplied: stream_options', param: null };
  }
  if (body.stream_options !== undefined && body.stream !== true) {
    return { message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: 'stream_options' };
  }
  if (target.operation === 'embeddings') return body.input === undefined ? { message: "'input' is a required property", param: 'input' } : null;
  if (target.operation === 'completions') return body.prompt === undefined ? { message: "'prompt' is a required property", param: 'prompt' } : null;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return { message: "'messages' is a required property", param: 'messages' };
  for (const [index, message] of (messages as Json[]).entries()) {
    if (!['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(String(message?.role))) {
      return { message: `Invalid value for 'messages[${index}].role'.`, param: `messages[${index}].role` };
    }
  }
  return null;
}

type Fail = (status: number, code: string, message: string, extra?: Json, headers?: Record<string, string>) => void;

function answerFault(target: Target, body: Json, fail: Fail): boolean {
  const filtered = target.operation === 'chat/completions' && subjectOf(body.messages as Json[]).includes('FILTER-ME');
  switch (filtered ? 'content-filter' : target.model) {
    case 'fail-400':
      fail(400, 'context_length_exceeded', "This model's maximum context length is 128000 tokens. However, your messages resulted in 130001 tokens. Please reduce the length of the messages.", { param: 'messages', type: 'invalid_request_error' });
      return true;
    case 'fail-401':
      fail(401, '401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
      return true;
    case 'fail-429':
      fail(429, '429', `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${target.apiVersion ?? 'v1'} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`, {}, {
        'retry-after': '7',
        'retry-after-ms': '7000',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-remaining-tokens': '0',
      });
      return true;
    case 'fail-500':
      fail(500, 'InternalServerError', 'The server had an error while processing your request. Sorry about that!');
      return true;
    case 'missing':
      fail(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
      return true;
    case 'content-filter':
      fail(400, 'content_filter', "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766", {
        param: 'prompt',
        type: null,
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { ...CATEGORIES, jailbreak: { filtered: true, detected: true }, violence: { filtered: true, severity: 'medium' } },
        },
      });
      return true;
    default:
      return false;
  }
}

function sendAnswer(target: Target, body: Json, res: ServerResponse): void {
  if (target.operation === 'embeddings') {
    sendJson(res, 200, { ...embeddingList(body, 'text-embedding-3-small', 8), model: 'text-embedding-3-small' });
    return;
  }
  if (target.operation === 'completions') {
    if (body.stream === true) sendEvents(res, textCompletionChunks(body, 'gpt-35-turbo-instruct'));
    else sendJson(res, 200, textCompletion(body, 'gpt-35-turbo-instruct'));
    return;
  }
  const cut = target.model === 'filtered-output';
  if (body.stream === true) {
    sendEvents(res, azureChunks(body, cut));
    return;
  }
  const answer = chatCompletion(body, AZURE_ANSWER_MODEL);
  const choices = (answer.choices as Json[]).map((choice) => (cut ? cutChoice(choice) : { ...choice, content_filter_results: OUTPUT_FILTER }));
  sendJson(res, 200, { ...answer, choices, prompt_filter_results: PROMPT_FILTER });
}

/** What the output filter leaves of an answer: the text so far, finish "content_filter", the verdict. */
function cutChoice(choice: Json): Json {
  const message = choice.message as Json;
  const content = typeof message.content === 'string' ? message.content.split(' ')[0]! : null;
  return { ...choice, message: { ...message, content }, finish_reason: 'content_filter', content_filter_results: { ...OUTPUT_FILTER, violence: { filtered: true, severity: 'high' } } };
}

/** OpenAI's chunks with Azure's annotations: a prompt-filter chunk first, filter results on every choice. */
function azureChunks(body: Json, cut: boolean): Json[] {
  const chunks = chatCompletionChunks(body, AZURE_ANSWER_MODEL);
  const out: Json[] = [{ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER }];
  let contentSeen = 0;
  for (const chunk of chunks) {
    const choices = chunk.choices as Json[];
    if (choices.length === 0) {
      out.push(chunk);
      continue;
    }
    const annotated = choices.map((choice) => {
      const delta = choice.delta as Json;
      if (cut && choice.finish_reason !== null) return { ...choice, finish_reason: 'content_filter', content_filter_results: { ...OUTPUT_FILTER, violence: { filtered: true, severity: 'high' } } };
      return { ...choice, content_filter_results: delta.role !== undefined ? {} : OUTPUT_FILTER };
    });
    if (cut && typeof (choices[0]!.delta as Json).content === 'string' && (choices[0]!.delta as Json).role === undefined && ++contentSeen > 1) continue;
    out.push({ ...chunk, choices: annotated });
  }
  return out;
}

function sendEvents(res: ServerResponse, events: readonly Json[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'apim-request-id': 'emu' });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'apim-request-id': 'emu' });
  res.end(text);
}
