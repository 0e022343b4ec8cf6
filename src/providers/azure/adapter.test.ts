import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatChunk, ChatRequest } from '../../core/types.js';
import { sseJsonEvents } from '../http/testing.js';
import type { ProviderAdapter, StreamEvent, UpstreamCall } from '../types.js';
import { repairChunks } from './adapter.js';
import { azureDeploymentSchema } from './config.js';
import { azureProvider } from './index.js';

/**
 * The request-shape test: the official `AzureOpenAI` client and Stellwerk's adapter send the same
 * request to a capturing server (path, api-version, auth header, body), plus the stream transform
 * fed at every byte boundary.
 */

interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

const KEY = 'capture-key-0123456789';
let server: Server;
let url: string;
const captured: Captured[] = [];

const CHAT_ANSWER = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const parsed = new URL(req.url ?? '/', 'http://capture');
      if (parsed.pathname.endsWith('/oauth2/v2.0/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'entra-token-1' }));
        return;
      }
      const body = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      captured.push({ method: req.method ?? '', path: parsed.pathname, query: parsed.searchParams, headers: req.headers, body });
      if (body?.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ ...CHAT_ANSWER, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
        return;
      }
      const answer = parsed.pathname.endsWith('/embeddings')
        ? { object: 'list', data: [{ object: 'embedding', index: 0, embedding: 'AACAPw==' }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } }
        : CHAT_ANSWER;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  captured.length = 0;
});

const call = (): UpstreamCall => ({ signal: new AbortController().signal, requestId: 'req-1', forwardHeaders: {} });

function adapter(settings: Record<string, unknown>): ProviderAdapter {
  const config = azureDeploymentSchema.parse({ provider: 'azure', endpoint: url, ...settings });
  return azureProvider.create(config, { deploymentName: 'd', timeouts: config.timeouts });
}

const request = {
  model: 'gpt4o-prod',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Hallo' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
  ],
  temperature: 0.2,
  max_completion_tokens: 50,
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
  tool_choice: 'auto',
  user: 'u-1',
} satisfies ChatRequest;
/** The same request as the SDK's parameter type (the canonical type is the wire shape, more loosely typed). */
const sdkRequest = request as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;

async function sdkThenStellwerk(sdk: () => Promise<unknown>, stellwerk: () => Promise<unknown>): Promise<[Captured, Captured]> {
  await sdk();
  await stellwerk();
  assert.equal(captured.length, 2);
  return [captured[0]!, captured[1]!];
}

test('deployment form: the same path, api-version, api-key and body as AzureOpenAI', async () => {
  const sdk = new AzureOpenAI({ endpoint: url, apiKey: KEY, apiVersion: '2024-10-21', deployment: 'gpt4o-prod', maxRetries: 0 });
  const ours = adapter({ deployment: 'gpt4o-prod', api_key: KEY });
  const [theirs, mine] = await sdkThenStellwerk(
    () => sdk.chat.completions.create(sdkRequest),
    () => ours.chat({ ...request, model: 'client-alias' }, call()),
  );
  assert.equal(mine.method, theirs.method);
  assert.equal(mine.path, '/openai/deployments/gpt4o-prod/chat/completions');
  assert.equal(mine.path, theirs.path);
  assert.equal(mine.query.get('api-version'), theirs.query.get('api-version'));
  assert.equal(mine.headers['api-key'], theirs.headers['api-key']);
  assert.equal(mine.headers.authorization, undefined);
  assert.equal(theirs.headers.authorization, undefined);
  assert.match(String(mine.headers['content-type']), /^application\/json/);
  assert.deepEqual(mine.body, theirs.body);
  assert.equal(mine.headers['x-request-id'], 'req-1');
  await ours.close();
});

test('streams: the same body, with stream_options.include_usage set by the gateway', async () => {
  const sdk = new AzureOpenAI({ endpoint: url, apiKey: KEY, apiVersion: '2024-10-21', deployment: 'gpt4o-prod', maxRetries: 0 });
  const ours = adapter({ deployment: 'gpt4o-prod', api_key: KEY });
  const [theirs, mine] = await sdkThenStellwerk(
    async () => {
      for await (const _ of await sdk.chat.completions.create({ ...sdkRequest, stream: true, stream_options: { include_usage: true } }));
    },
    async () => {
      for await (const _ of await ours.chatStream({ ...request, stream: true }, call()));
    },
  );
  assert.equal(mine.path, theirs.path);
  assert.deepEqual(mine.body, theirs.body);
  assert.equal(mine.headers.accept, 'text/event-stream');
  await ours.close();
});

test('embeddings: the same request as AzureOpenAI', async () => {
  const sdk = new AzureOpenAI({ endpoint: url, apiKey: KEY, apiVersion: '2024-10-21', deployment: 'embed', maxRetries: 0 });
  const ours = adapter({ deployment: 'embed', api_key: KEY });
  const [theirs, mine] = await sdkThenStellwerk(
    () => sdk.embeddings.create({ model: 'embed', input: ['a', 'b'] }),
    () => ours.embeddings!({ model: 'embed', input: ['a', 'b'], encoding_format: 'base64' }, call()),
  );
  assert.equal(mine.path, '/openai/deployments/embed/embeddings');
  assert.equal(mine.path, theirs.path);
  assert.equal(mine.query.get('api-version'), theirs.query.get('api-version'));
  assert.deepEqual(mine.body, theirs.body);
  await ours.close();
});

test('Entra ID: a bearer token where AzureOpenAI with a token provider puts it', async () => {
  const sdk = new AzureOpenAI({ endpoint: url, azureADTokenProvider: async () => 'entra-token-1', apiVersion: '2024-10-21', deployment: 'd', maxRetries: 0 });
  const ours = adapter({ deployment: 'd', entra: { tenant_id: 't', client_id: 'c', client_secret: 's', authority_host: url } });
  const [theirs, mine] = await sdkThenStellwerk(
    () => sdk.chat.completions.create({ ...sdkRequest, model: 'd' }),
    () => ours.chat({ ...request, model: 'd' }, call()),
  );
  assert.equal(mine.headers.authorization, 'Bearer entra-token-1');
  assert.equal(mine.headers.authorization, theirs.headers.authorization);
  assert.equal(mine.headers['api-key'], undefined);
  assert.equal(mine.path, theirs.path);
  await ours.close();
});

test('v1 form: the path and body of the plain OpenAI client at /openai/v1 (the key as api-key)', async () => {
  const sdk = new OpenAI({ baseURL: `${url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });
  const ours = adapter({ api_version: 'v1', model: 'gpt4o-prod', api_key: KEY });
  const [theirs, mine] = await sdkThenStellwerk(
    () => sdk.chat.completions.create(sdkRequest),
    () => ours.chat({ ...request, model: 'client-alias' }, call()),
  );
  assert.equal(mine.path, '/openai/v1/chat/completions');
  assert.equal(mine.path, theirs.path);
  assert.equal([...mine.query].length, 0);
  assert.deepEqual(mine.body, theirs.body);
  // Azure takes the key as `api-key` on every endpoint; the OpenAI client can only send it as a bearer token.
  assert.equal(mine.headers['api-key'], KEY);
  assert.equal(theirs.headers.authorization, `Bearer ${KEY}`);
  await ours.close();
});

const AZURE_STREAM = [
  { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }] },
  { id: 'c1', object: 'chat.completion.chunk', created: 5, model: 'gpt-4o', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, content_filter_results: {} }] },
  { id: 'c1', object: 'chat.completion.chunk', created: 5, model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'Grüße 🚂' }, finish_reason: null, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }] },
  { id: 'c1', object: 'chat.completion.chunk', created: 5, model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'content_filter', content_filter_results: { violence: { filtered: true, severity: 'high' } } }] },
  { id: 'c1', object: 'chat.completion.chunk', created: 5, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
];
const STREAM_BYTES = Buffer.from(`${AZURE_STREAM.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`);

async function translate(pieces: readonly Buffer[]): Promise<StreamEvent<ChatChunk>[]> {
  async function* body() {
    for (const piece of pieces) yield piece;
  }
  const events = sseJsonEvents<ChatChunk>(body(), { failure: (error) => error as never, isFinal: () => false, secrets: [] });
  const out: StreamEvent<ChatChunk>[] = [];
  for await (const event of repairChunks(events)) out.push(event);
  return out;
}

test('the stream: the prompt-filter chunk becomes a chat.completion.chunk, the rest passes byte for byte', async () => {
  const events = await translate([STREAM_BYTES]);
  assert.equal(events.length, AZURE_STREAM.length);
  assert.equal(events[0]!.value.object, 'chat.completion.chunk');
  assert.deepEqual((events[0]!.value as Record<string, unknown>).prompt_filter_results, AZURE_STREAM[0]!.prompt_filter_results);
  assert.equal(events[0]!.raw, null);
  for (let i = 1; i < events.length; i++) assert.equal(events[i]!.raw, JSON.stringify(AZURE_STREAM[i]));
  assert.equal(events[3]!.value.choices[0]!.finish_reason, 'content_filter');
});

test('the stream split at every byte boundary gives the same events', async () => {
  const whole = JSON.stringify(await translate([STREAM_BYTES]));
  for (let cut = 1; cut < STREAM_BYTES.length; cut++) {
    const split = await translate([STREAM_BYTES.subarray(0, cut), STREAM_BYTES.subarray(cut)]);
    assert.equal(JSON.stringify(split), whole, `split at byte ${cut}`);
  }
  const bytewise = await translate([...STREAM_BYTES].map((byte) => Buffer.from([byte])));
  assert.equal(JSON.stringify(bytewise), whole);
});
