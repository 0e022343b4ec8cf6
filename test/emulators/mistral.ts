import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  contentText,
  countTokens,
  embeddingBase64,
  embeddingVector,
  hash32,
  planChat,
  streamPieces,
  subjectOf,
  type PlannedChoice,
} from './openai-answers.js';

/**
 * A real HTTP server that plays Mistral's API (api.mistral.ai/v1), written from Mistral's API
 * reference and its published SDK types: `POST /v1/chat/completions` (whole and streamed) and
 * `POST /v1/embeddings`, with a bearer key. It is as strict as Mistral:
 *
 * - unknown fields, on the request or on any message, are a 422 `extra_forbidden` (Mistral's
 *   validation shape: `{"object": "error", "message": {"detail": [{"type", "loc", "msg", "input"}]}, …}`),
 *   so are wrong types and values (roles, content chunk types, tool_choice, response_format);
 * - tool-call ids must be 9 letters and digits (400 `invalid_function_call`, code 3280), and a
 *   tool result must answer a call made before it;
 * - the last message must be a user or tool message (or an assistant one with `prefix: true`).
 *
 * Answers: the text of openai-answers.ts (`Echo[i]: <last user text>`), tools called as there but
 * with Mistral's 9-character ids, each call whole in one stream delta, usage on the last chunk.
 * Models: `echo`, `mistral-embed`; faults `fail-400`, `fail-401`, `fail-429` (retry-after: 7),
 * `fail-500`; `model-length` (finish_reason "model_length"), `error-finish` (finish_reason
 * "error"), `thinking` (content as thinking and text chunks, as Magistral answers), `error-mid-stream`
 * (an error object in the stream).
 */

export interface MistralEmulatorOptions {
  readonly apiKey: string;
  readonly embeddingDimensions?: number;
}

export interface MistralRecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: unknown;
  problem: string | null;
}

export interface MistralEmulator {
  /** The base URL, ending in /v1. */
  readonly url: string;
  readonly requests: readonly MistralRecordedRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Detail {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

export const CREATED = 1_720_000_000;
export const THINKING = 'Erst das Signal prüfen.';

export async function startMistralEmulator(options: MistralEmulatorOptions): Promise<MistralEmulator> {
  const requests: MistralRecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const record: MistralRecordedRequest = { method: req.method ?? '', path: (req.url ?? '/').split('?')[0]!, headers: req.headers, rawBody, body, problem: null };
      requests.push(record);
      answer(record, res, options);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(record: MistralRecordedRequest, res: ServerResponse, options: MistralEmulatorOptions): void {
  if (record.headers.authorization !== `Bearer ${options.apiKey}`) {
    record.problem = 'Unauthorized';
    return sendJson(res, 401, { message: 'Unauthorized', request_id: 'a1b2c3d4e5f60718' });
  }
  const endpoint = record.method === 'POST' ? record.path : '';
  if (endpoint !== '/v1/chat/completions' && endpoint !== '/v1/embeddings') {
    record.problem = 'Not Found';
    return sendJson(res, 404, { detail: 'Not Found' });
  }
  if (!String(record.headers['content-type'] ?? '').startsWith('application/json') || record.body === undefined) {
    return refuse(record, res, [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error', input: record.rawBody.slice(0, 40) }]);
  }
  const body = record.body as Json;
  const details = endpoint === '/v1/embeddings' ? checkEmbeddings(body) : checkChat(body);
  if (details.length > 0) return refuse(record, res, details);
  if (endpoint === '/v1/embeddings') return sendJson(res, 200, embeddings(body, options.embeddingDimensions ?? 8));
  const semantic = checkConversation(body.messages as Json[]);
  if (semantic !== null) {
    record.problem = semantic.message;
    return sendJson(res, 400, { object: 'error', message: semantic.message, type: semantic.type, param: null, code: semantic.code });
  }
  if (answerFault(body.model as string, res)) return;
  if (body.stream === true) sendStream(res, body);
  else sendJson(res, 200, chatCompletion(body));
}

function refuse(record: MistralRecordedRequest, res: ServerResponse, details: Detail[]): void {
  record.problem = details.map((detail) => `${detail.loc.join('.')}: ${detail.msg}`).join('; ');
  sendJson(res, 422, { object: 'error', message: { detail: details }, type: 'invalid_request_error', param: null, code: null });
}

// ---------------------------------------------------------------- validation (Mistral's request schema)

const CHAT_FIELDS: Record<string, (value: unknown) => string | null> = {
  model: isString,
  messages: (value) => (Array.isArray(value) ? null : 'Input should be a valid list'),
  temperature: nullable(isNumber),
  top_p: isNumber,
  max_tokens: nullable(isInteger),
  stream: isBoolean,
  stop: (value) => (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')) ? null : 'Input should be a valid string or list'),
  random_seed: nullable(isInteger),
  response_format: checkResponseFormat,
  tools: nullable((value) => (Array.isArray(value) ? null : 'Input should be a valid list')),
  tool_choice: checkToolChoice,
  presence_penalty: isNumber,
  frequency_penalty: isNumber,
  n: nullable(isInteger),
  prediction: (value) => (isObject(value) && value.type === 'content' && typeof value.content === 'string' ? null : 'Input should be a valid prediction'),
  parallel_tool_calls: isBoolean,
  prompt_mode: nullable((value) => (value === 'reasoning' ? null : "Input should be 'reasoning'")),
  safe_prompt: isBoolean,
};
const MESSAGE_FIELDS: Record<string, readonly string[]> = {
  system: ['role', 'content'],
  user: ['role', 'content'],
  assistant: ['role', 'content', 'tool_calls', 'prefix'],
  tool: ['role', 'content', 'tool_call_id', 'name'],
};
const CHUNK_FIELDS: Record<string, readonly string[]> = {
  text: ['type', 'text'],
  image_url: ['type', 'image_url'],
  input_audio: ['type', 'input_audio'],
  document_url: ['type', 'document_url', 'document_name'],
};

function checkChat(body: Json): Detail[] {
  const details = checkObject(body, CHAT_FIELDS, ['model', 'messages'], ['body']);
  if (details.length > 0) return details;
  (body.messages as unknown[]).forEach((message, index) => details.push(...checkMessage(message, ['body', 'messages', index])));
  ((body.tools as unknown[] | null | undefined) ?? []).forEach((tool, index) => details.push(...checkTool(tool, ['body', 'tools', index])));
  return details;
}

function checkObject(value: Json, fields: Record<string, (value: unknown) => string | null>, required: readonly string[], loc: (string | number)[]): Detail[] {
  const details: Detail[] = [];
  for (const name of required) if (value[name] === undefined) details.push({ type: 'missing', loc: [...loc, name], msg: 'Field required', input: value });
  for (const [name, field] of Object.entries(value)) {
    const check = fields[name];
    if (check === undefined) details.push({ type: 'extra_forbidden', loc: [...loc, name], msg: 'Extra inputs are not permitted', input: field });
    else if (field !== undefined) {
      const msg = check(field);
      if (msg !== null) details.push({ type: 'value_error', loc: [...loc, name], msg, input: field });
    }
  }
  return details;
}

function checkMessage(message: unknown, loc: (string | number)[]): Detail[] {
  if (!isObject(message) || typeof message.role !== 'string' || MESSAGE_FIELDS[message.role] === undefined) {
    return [{ type: 'union_tag_invalid', loc, msg: "Input tag does not match any of the expected tags: 'system', 'user', 'assistant', 'tool'", input: message }];
  }
  const role = message.role;
  const details: Detail[] = [];
  for (const name of Object.keys(message)) {
    if (!MESSAGE_FIELDS[role]!.includes(name)) details.push({ type: 'extra_forbidden', loc: [...loc, role, name], msg: 'Extra inputs are not permitted', input: message[name] });
  }
  const content = message.content;
  const optional = role === 'assistant';
  if (content === undefined || content === null) {
    if (!optional) details.push({ type: 'missing', loc: [...loc, role, 'content'], msg: 'Field required', input: message });
  } else if (Array.isArray(content)) {
    content.forEach((chunk, index) => details.push(...checkChunk(chunk, [...loc, role, 'content', index])));
  } else if (typeof content !== 'string') {
    details.push({ type: 'string_type', loc: [...loc, role, 'content'], msg: 'Input should be a valid string', input: content });
  }
  if (role === 'tool' && typeof message.tool_call_id !== 'string') details.push({ type: 'missing', loc: [...loc, role, 'tool_call_id'], msg: 'Field required', input: message });
  for (const [index, call] of ((message.tool_calls as unknown[] | undefined) ?? []).entries()) {
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(fn) || typeof fn.name !== 'string' || (typeof fn.arguments !== 'string' && !isObject(fn.arguments))) {
      details.push({ type: 'model_type', loc: [...loc, role, 'tool_calls', index, 'function'], msg: 'Input should be a valid FunctionCall', input: call });
    }
  }
  return details;
}

function checkChunk(chunk: unknown, loc: (string | number)[]): Detail[] {
  const allowed = isObject(chunk) && typeof chunk.type === 'string' ? CHUNK_FIELDS[chunk.type] : undefined;
  if (!isObject(chunk) || allowed === undefined) {
    return [{ type: 'union_tag_invalid', loc, msg: "Input tag does not match any of the expected tags: 'text', 'image_url', 'input_audio', 'document_url'", input: chunk }];
  }
  const details: Detail[] = Object.keys(chunk)
    .filter((name) => !allowed.includes(name))
    .map((name) => ({ type: 'extra_forbidden', loc: [...loc, chunk.type as string, name], msg: 'Extra inputs are not permitted', input: chunk[name] }));
  const image = chunk.image_url;
  if (chunk.type === 'image_url' && typeof image !== 'string' && !(isObject(image) && typeof image.url === 'string' && Object.keys(image).every((key) => key === 'url' || key === 'detail'))) {
    details.push({ type: 'model_type', loc: [...loc, 'image_url', 'image_url'], msg: 'Input should be a valid string or ImageURL', input: image });
  }
  if (chunk.type === 'text' && typeof chunk.text !== 'string') details.push({ type: 'string_type', loc: [...loc, 'text', 'text'], msg: 'Input should be a valid string', input: chunk.text });
  if (chunk.type === 'input_audio' && typeof chunk.input_audio !== 'string') details.push({ type: 'string_type', loc: [...loc, 'input_audio', 'input_audio'], msg: 'Input should be a valid string', input: chunk.input_audio });
  return details;
}

function checkTool(tool: unknown, loc: (string | number)[]): Detail[] {
  const fn = isObject(tool) ? tool.function : undefined;
  if (!isObject(tool) || (tool.type !== undefined && tool.type !== 'function') || !isObject(fn)) {
    return [{ type: 'model_type', loc, msg: 'Input should be a valid Tool', input: tool }];
  }
  const details = checkObject(fn, { name: isString, description: isString, parameters: (v) => (isObject(v) ? null : 'Input should be a valid dictionary'), strict: isBoolean }, ['name', 'parameters'], [...loc, 'function']);
  for (const name of Object.keys(tool)) if (name !== 'type' && name !== 'function') details.push({ type: 'extra_forbidden', loc: [...loc, name], msg: 'Extra inputs are not permitted', input: tool[name] });
  return details;
}

function checkResponseFormat(value: unknown): string | null {
  if (!isObject(value) || !['text', 'json_object', 'json_schema'].includes(String(value.type))) return "Input should be 'text', 'json_object' or 'json_schema'";
  if (value.type === 'json_schema') {
    const schema = value.json_schema;
    if (!isObject(schema) || typeof schema.name !== 'string' || !isObject(schema.schema)) return 'json_schema needs a name and a schema';
  }
  return Object.keys(value).every((key) => key === 'type' || key === 'json_schema') ? null : 'Extra inputs are not permitted';
}

function checkToolChoice(value: unknown): string | null {
  if (value === 'auto' || value === 'none' || value === 'any' || value === 'required') return null;
  if (isObject(value) && value.type === 'function' && isObject(value.function) && typeof value.function.name === 'string') return null;
  return "Input should be 'auto', 'none', 'any', 'required' or a ToolChoice";
}

function checkEmbeddings(body: Json): Detail[] {
  return checkObject(
    body,
    {
      model: isString,
      input: (value) => (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')) ? null : 'Input should be a valid string or list of strings'),
      output_dimension: nullable(isInteger),
      output_dtype: (value) => (['float', 'int8', 'uint8', 'binary', 'ubinary'].includes(String(value)) ? null : 'Input should be a valid dtype'),
      encoding_format: (value) => (value === 'float' || value === 'base64' ? null : "Input should be 'float' or 'base64'"),
      metadata: nullable((value) => (isObject(value) ? null : 'Input should be a valid dictionary')),
    },
    ['model', 'input'],
    ['body'],
  );
}

/** What Mistral checks beyond the schema: tool-call ids, their pairing, and the last role. */
function checkConversation(messages: readonly Json[]): { message: string; type: string; code: string } | null {
  const calls = new Set<string>();
  for (const message of messages) {
    const ids = message.role === 'tool' ? [message.tool_call_id] : ((message.tool_calls as Json[] | undefined) ?? []).map((call) => call.id);
    for (const id of ids) {
      if (typeof id !== 'string' || !/^[a-zA-Z0-9]{9}$/.test(id)) {
        return { message: `Tool call id was ${String(id)} but must be a-z, A-Z, 0-9, with a length of 9.`, type: 'invalid_function_call', code: '3280' };
      }
      if (message.role === 'tool' && !calls.has(id)) return { message: `Unexpected tool call id ${id} in tool results`, type: 'invalid_request_message_order', code: '3230' };
      calls.add(id);
    }
  }
  const last = messages[messages.length - 1];
  if (last === undefined || !(last.role === 'user' || last.role === 'tool' || (last.role === 'assistant' && last.prefix === true))) {
    return { message: `Expected last role User or Tool (or Assistant with prefix True) for serving but got ${String(last?.role)}`, type: 'invalid_request_message_order', code: '3230' };
  }
  return null;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
function isString(value: unknown): string | null {
  return typeof value === 'string' ? null : 'Input should be a valid string';
}
function isNumber(value: unknown): string | null {
  return typeof value === 'number' ? null : 'Input should be a valid number';
}
function isInteger(value: unknown): string | null {
  return Number.isInteger(value) ? null : 'Input should be a valid integer';
}
function isBoolean(value: unknown): string | null {
  return typeof value === 'boolean' ? null : 'Input should be a valid boolean';
}
function nullable(check: (value: unknown) => string | null): (value: unknown) => string | null {
  return (value) => (value === null ? null : check(value));
}

// ---------------------------------------------------------------- answers

function answerFault(model: string, res: ServerResponse): boolean {
  switch (model) {
    case 'fail-400':
      sendJson(res, 400, { object: 'error', message: 'Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', type: 'invalid_function_call', param: null, code: '3280' });
      return true;
    case 'fail-401':
      sendJson(res, 401, { message: 'Unauthorized', request_id: 'b2c3d4e5f6071829' });
      return true;
    case 'fail-429':
      sendJson(res, 429, { object: 'error', message: 'Rate limit exceeded', type: 'rate_limited', param: null, code: '1300' }, { 'retry-after': '7', 'x-ratelimit-remaining-tokens-minute': '0' });
      return true;
    case 'fail-500':
      sendJson(res, 500, { object: 'error', message: 'Internal server error', type: 'internal_server_error', param: null, code: '1000' });
      return true;
    default:
      return false;
  }
}

/** A Mistral tool-call id: 9 letters and digits, derived from what the call is about. */
export function mistralCallId(subject: string, name: string, index: number): string {
  return `${hash32(`${subject}\u0000${name}`).toString(36)}${index}`.padStart(9, 'T').slice(-9);
}

interface Planned {
  readonly choices: readonly PlannedChoice[];
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  readonly subject: string;
}

function plan(body: Json): Planned {
  // Mistral's "any" is OpenAI's "required".
  const openAiShaped = { ...body, tool_choice: body.tool_choice === 'any' ? 'required' : body.tool_choice };
  const { choices, usage } = planChat(openAiShaped);
  return { choices, usage, subject: subjectOf(body.messages as Json[]) };
}

function finishOf(model: string, choice: PlannedChoice): string {
  if (model === 'model-length') return 'model_length';
  if (model === 'error-finish') return 'error';
  return choice.kind === 'text' ? 'stop' : 'tool_calls';
}

function toolCalls(choice: PlannedChoice, subject: string): Json[] {
  if (choice.kind !== 'tools') return [];
  return choice.calls.map((call, index) => ({ id: mistralCallId(subject, call.name, index), function: { name: call.name, arguments: call.arguments }, index }));
}

function content(model: string, text: string): string | Json[] {
  if (model !== 'thinking') return text;
  return [{ type: 'thinking', thinking: [{ type: 'text', text: THINKING }] }, { type: 'text', text }];
}

function chatCompletion(body: Json): Json {
  const model = body.model as string;
  const { choices, usage, subject } = plan(body);
  return {
    id: `cmpl-${hash32(JSON.stringify(body.messages)).toString(16)}`,
    object: 'chat.completion',
    model,
    usage,
    created: CREATED,
    choices: choices.map((choice, index) => ({
      index,
      message:
        choice.kind === 'text'
          ? { role: 'assistant', content: content(model, choice.content), tool_calls: null, prefix: false }
          : { role: 'assistant', content: '', tool_calls: toolCalls(choice, subject).map((call) => ({ ...call, type: 'function' })), prefix: false },
      finish_reason: finishOf(model, choice),
    })),
  };
}

/** Mistral's stream: a role chunk, content pieces (or each tool call whole), a finish chunk per choice; usage on the last. */
function sendStream(res: ServerResponse, body: Json): void {
  const model = body.model as string;
  const { choices, usage, subject } = plan(body);
  const base = { id: `cmpl-${hash32(JSON.stringify(body.messages)).toString(16)}`, object: 'chat.completion.chunk', created: CREATED, model };
  const events: Json[] = [];
  choices.forEach((choice, index) => {
    events.push({ ...base, choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    if (model === 'thinking') events.push({ ...base, choices: [{ index, delta: { content: [{ type: 'thinking', thinking: [{ type: 'text', text: THINKING }] }] }, finish_reason: null }] });
    if (choice.kind === 'text') {
      for (const piece of streamPieces(choice.content)) events.push({ ...base, choices: [{ index, delta: { content: piece }, finish_reason: null }] });
    } else {
      events.push({ ...base, choices: [{ index, delta: { tool_calls: toolCalls(choice, subject) }, finish_reason: null }] });
    }
    if (model === 'error-mid-stream') events.push({ object: 'error', message: 'Service unavailable mid-answer', type: 'internal_server_error', param: null, code: '1000' });
    events.push({ ...base, choices: [{ index, delta: { content: '' }, finish_reason: finishOf(model, choice) }] });
  });
  events[events.length - 1] = { ...events[events.length - 1], usage };
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const event of events) {
    // Each event in two writes, split inside its bytes, so that readers must reassemble it.
    const bytes = Buffer.from(`data: ${JSON.stringify(event)}\n\n`);
    res.write(bytes.subarray(0, bytes.length >> 1));
    res.write(bytes.subarray(bytes.length >> 1));
  }
  res.end('data: [DONE]\n\n');
}

function embeddings(body: Json, dimensions: number): Json {
  const inputs = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
  const size = typeof body.output_dimension === 'number' ? body.output_dimension : dimensions;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    tokens += countTokens(contentText(input));
    const vector = embeddingVector(input, size);
    return { object: 'embedding', embedding: body.encoding_format === 'base64' ? embeddingBase64(vector) : vector, index };
  });
  return { id: `emb-${hash32(inputs.join('\u0000')).toString(16)}`, object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 } };
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
