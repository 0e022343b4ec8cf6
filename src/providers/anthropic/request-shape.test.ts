import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest } from '../../core/types.js';
import { anthropicDeploymentSchema } from './config.js';
import { anthropicProvider } from './index.js';
import type { ProviderAdapter } from '../types.js';

/**
 * What a correct request looks like, according to the official SDK: the SDK and Stellwerk's
 * adapter are pointed at the same capturing server with the same content, and what arrives must
 * agree in method, path, query, the headers that matter and the JSON body.
 */

const KEY = 'sk-ant-request-shape-0123456789';

interface Captured {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

let server: Server;
let url: string;
const captured: Captured[] = [];

const MESSAGE = {
  id: 'msg_shape', type: 'message', role: 'assistant', model: 'claude-shape', content: [{ type: 'text', text: 'ok', citations: null }],
  stop_reason: 'end_turn', stop_sequence: null, container: null, usage: { input_tokens: 1, output_tokens: 1 },
};
const STREAM = [
  { type: 'message_start', message: { ...MESSAGE, content: [], stop_reason: null } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } },
  { type: 'message_stop' },
];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://capture');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      captured.push({ method: req.method ?? '', path: target.pathname, query: target.search, headers: req.headers, body });
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(STREAM.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(''));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(MESSAGE));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The SDK presenting the key as x-api-key, on the version and betas the deployment uses. */
function sdk(betas?: string): Anthropic {
  const headers: Record<string, string> = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
  if (betas !== undefined) headers['anthropic-beta'] = betas;
  return new Anthropic({ baseURL: url, apiKey: null, authToken: null, maxRetries: 0, defaultHeaders: headers });
}

function adapter(extra: Record<string, unknown> = {}): ProviderAdapter {
  const config = anthropicDeploymentSchema.parse({ provider: 'anthropic', base_url: url, model: 'claude-shape', api_key: KEY, ...extra });
  return anthropicProvider.create(config, { deploymentName: 'shape', timeouts: config.timeouts });
}

const call = { signal: new AbortController().signal, requestId: 'req-shape', forwardHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } };

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const SCHEMA = { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] };

/** A conversation using most of what the translation does. */
const CHAT: ChatRequest = {
  model: 'alias',
  messages: [
    { role: 'system', content: 'You are a signal box.' },
    { role: 'developer', content: 'Answer in German.' },
    { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'image_url', image_url: { url: 'https://example.com/track.jpg' } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_a', content: 'sunny' },
    { role: 'user', content: 'And now?' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather', parameters: SCHEMA } }],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  parallel_tool_calls: false,
  max_completion_tokens: 300,
  stop: ['END'],
  temperature: 0.3,
  top_p: 0.8,
  user: 'user-42',
};

/**
 * The same conversation written by hand as Anthropic's SDK types it. temperature and top_p are
 * parameters of API version 2023-06-01 that the SDK's 2026-10-21 types no longer list.
 */
const EXPECTED: MessageCreateParamsNonStreaming & { temperature: number; top_p: number } = {
  model: 'claude-shape',
  max_tokens: 300,
  system: [
    { type: 'text', text: 'You are a signal box.' },
    { type: 'text', text: 'Answer in German.' },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Look:' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/track.jpg' } },
      ],
    },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Köln' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: 'sunny' }, { type: 'text', text: 'And now?' }] },
  ],
  tools: [{ name: 'get_weather', description: 'The weather', input_schema: SCHEMA }],
  tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
  stop_sequences: ['END'],
  metadata: { user_id: 'user-42' },
  temperature: 0.3,
  top_p: 0.8,
};

const RELEVANT_HEADERS = ['content-type', 'anthropic-version', 'x-api-key', 'anthropic-beta'] as const;

function assertSameRequest(ours: Captured, theirs: Captured): void {
  assert.equal(ours.method, theirs.method);
  assert.equal(ours.path, theirs.path);
  assert.equal(ours.query, theirs.query);
  for (const name of RELEVANT_HEADERS) assert.equal(ours.headers[name], theirs.headers[name], name);
  assert.equal(ours.headers.authorization, undefined, 'the key travels once, as x-api-key');
  assert.deepEqual(ours.body, theirs.body);
}

test('a whole answer: the adapter sends what the SDK sends', async () => {
  await sdk().messages.create(EXPECTED);
  const theirs = captured.at(-1)!;
  const answer = await adapter().chat(CHAT, call);
  const ours = captured.at(-1)!;
  assertSameRequest(ours, theirs);
  assert.deepEqual(ours.body, EXPECTED);
  assert.equal(ours.path, '/v1/messages');
  assert.equal(ours.headers.traceparent, call.forwardHeaders.traceparent);
  assert.equal(answer.value.choices[0]!.message.content, 'ok');
});

test('a streamed answer: the same, with stream: true', async () => {
  const stream = await sdk().messages.create({ ...EXPECTED, stream: true });
  for await (const _ of stream) void _;
  const theirs = captured.at(-1)!;
  let text = '';
  for await (const chunk of await adapter().chatStream({ ...CHAT, stream: true, stream_options: { include_usage: true } }, call)) {
    text += chunk.value.choices[0]?.delta.content ?? '';
  }
  const ours = captured.at(-1)!;
  assertSameRequest(ours, theirs);
  assert.equal(ours.body.stream, true);
  assert.equal(ours.headers.accept, 'text/event-stream');
  assert.equal(text, 'ok');
});

test('betas and the default max_tokens', async () => {
  const minimal: ChatRequest = { model: 'alias', messages: [{ role: 'user', content: 'hi' }] };
  await sdk('files-api-2025-04-14,context-1m-2025-08-07').messages.create({ model: 'claude-shape', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
  const theirs = captured.at(-1)!;
  await adapter({ anthropic_beta: ['files-api-2025-04-14', 'context-1m-2025-08-07'], max_tokens: 1024 }).chat(minimal, call);
  assertSameRequest(captured.at(-1)!, theirs);
});
