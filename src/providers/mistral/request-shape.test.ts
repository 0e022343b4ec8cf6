import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatRequest } from '../../core/types.js';
import type { ProviderAdapter, UpstreamCall } from '../types.js';
import { mistralApiKey } from './api.js';
import { mistralDeploymentSchema } from './config.js';
import { mistralProvider } from './index.js';

/**
 * The request-shape test. Mistral publishes no JavaScript SDK here, so the reference is its API
 * documentation: `POST https://api.mistral.ai/v1/chat/completions` with `Content-Type:
 * application/json`, `Accept: application/json`, `Authorization: Bearer $MISTRAL_API_KEY`, and a
 * body with only the documented fields. The input is what the official openai SDK sends for a
 * request (captured first), and what Stellwerk sends Mistral for it is compared with the documented
 * request, field by field.
 */

interface Captured {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

const KEY = 'mistral-capture-key-42';
let server: Server;
let url: string;
const captured: Captured[] = [];

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      captured.push({ path: req.url ?? '', headers: req.headers, body });
      if (body.stream === true) {
        const chunk = { id: 'c', object: 'chat.completion.chunk', model: 'm', created: 1, choices: [{ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
        return;
      }
      if (String(req.url).endsWith('/embeddings')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'e', object: 'list', model: 'mistral-embed', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], usage: { prompt_tokens: 1, total_tokens: 1 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          model: 'mistral-large-2411',
          created: 1,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok', tool_calls: null }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  captured.length = 0;
});

const call = (): UpstreamCall => ({ signal: new AbortController().signal, requestId: 'req-9', forwardHeaders: { traceparent: '00-abc-def-01' } });

function adapter(extra: Record<string, unknown> = {}): ProviderAdapter {
  const config = mistralDeploymentSchema.parse({ provider: 'mistral', base_url: `${url}/v1`, model: 'mistral-large-latest', api_key: KEY, ...extra });
  return mistralProvider.create(config, { deploymentName: 'm', timeouts: config.timeouts });
}

/** What the openai SDK sends for these parameters: the canonical request the gateway receives. */
async function asSentByOpenAiSdk(params: OpenAI.ChatCompletionCreateParamsNonStreaming): Promise<ChatRequest> {
  const sdk = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  await sdk.chat.completions.create(params);
  return captured.shift()!.body as ChatRequest;
}

test('the documented chat request: path, headers, and a body with only documented fields', async () => {
  const request = await asSentByOpenAiSdk({
    model: 'alias',
    messages: [
      { role: 'developer', content: 'Antworte kurz.' },
      { role: 'user', content: [{ type: 'text', text: 'Was zeigt das Bild?' }, { type: 'image_url', image_url: { url: 'https://example.com/signal.png', detail: 'low' } }], name: 'anna' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Qx7PzS0MvXcEwz1y', type: 'function', function: { name: 'lookup', arguments: '{"q":"Signal"}' } }] },
      { role: 'tool', tool_call_id: 'call_Qx7PzS0MvXcEwz1y', content: 'Hp 0: Halt' },
    ],
    tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up a signal', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
    tool_choice: 'required',
    max_completion_tokens: 200,
    seed: 7,
    temperature: 0.2,
    top_p: 0.95,
    stop: ['###'],
    response_format: { type: 'json_object' },
    user: 'user-123',
    store: false,
  });
  const ours = adapter({ safe_prompt: true });
  await ours.chat(request, call());
  const sent = captured[0]!;
  assert.equal(sent.path, '/v1/chat/completions');
  assert.equal(sent.headers.authorization, `Bearer ${KEY}`);
  assert.equal(sent.headers['content-type'], 'application/json');
  assert.equal(sent.headers.accept, 'application/json');
  assert.equal(sent.headers.traceparent, '00-abc-def-01');
  const callId = (sent.body.messages as { tool_calls?: { id: string }[] }[])[2]!.tool_calls![0]!.id;
  assert.match(callId, /^[A-Za-z0-9]{9}$/);
  assert.deepEqual(sent.body, {
    model: 'mistral-large-latest',
    messages: [
      { role: 'system', content: 'Antworte kurz.' },
      { role: 'user', content: [{ type: 'text', text: 'Was zeigt das Bild?' }, { type: 'image_url', image_url: { url: 'https://example.com/signal.png', detail: 'low' } }] },
      { role: 'assistant', tool_calls: [{ id: callId, type: 'function', function: { name: 'lookup', arguments: '{"q":"Signal"}' } }] },
      { role: 'tool', content: 'Hp 0: Halt', tool_call_id: callId, name: 'lookup' },
    ],
    temperature: 0.2,
    top_p: 0.95,
    stop: ['###'],
    max_tokens: 200,
    random_seed: 7,
    response_format: { type: 'json_object' },
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } }, description: 'Looks up a signal' } }],
    tool_choice: 'any',
    safe_prompt: true,
    stream: false,
  });
  await ours.close();
});

test('a streamed request says stream: true and nothing of stream_options', async () => {
  const ours = adapter();
  for await (const _ of await ours.chatStream({ model: 'alias', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } }, call()));
  assert.deepEqual(captured[0]!.body, { model: 'mistral-large-latest', messages: [{ role: 'user', content: 'x' }], stream: true });
  assert.equal(captured[0]!.headers.accept, 'text/event-stream');
  await ours.close();
});

test('the documented embeddings request: model, input; no encoding_format even when the client asks base64', async () => {
  const ours = adapter({ model: 'mistral-embed' });
  const answer = await ours.embeddings!({ model: 'alias', input: ['Stellwerk'], encoding_format: 'base64' }, call());
  assert.equal(captured[0]!.path, '/v1/embeddings');
  assert.deepEqual(captured[0]!.body, { model: 'mistral-embed', input: ['Stellwerk'] });
  assert.equal(answer.value.data[0]!.embedding, Buffer.from(new Float32Array([0.5]).buffer).toString('base64'));
  await ours.close();
});

test('the key: api_key, else MISTRAL_API_KEY; without either the deployment is not used', () => {
  const config = mistralDeploymentSchema.parse({ provider: 'mistral', model: 'mistral-small-latest' });
  assert.equal(config.base_url, 'https://api.mistral.ai/v1');
  assert.equal(mistralApiKey(config, { MISTRAL_API_KEY: 'from-env' }), 'from-env');
  assert.equal(mistralApiKey({ ...config, api_key: 'own' }, { MISTRAL_API_KEY: 'from-env' }), 'own');
  const saved = process.env.MISTRAL_API_KEY;
  delete process.env.MISTRAL_API_KEY;
  try {
    assert.equal(mistralProvider.unusableReason(config), 'no API key: set api_key or MISTRAL_API_KEY');
  } finally {
    if (saved !== undefined) process.env.MISTRAL_API_KEY = saved;
  }
  assert.equal(mistralProvider.unusableReason({ ...config, api_key: 'k' }), null);
  assert.equal(mistralProvider.upstreamModel(config), 'mistral-small-latest');
});
