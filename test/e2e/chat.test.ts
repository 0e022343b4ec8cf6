import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { chatAnswer, planChat } from '../emulators/openai-answers.js';
import type { RecordedRequest } from '../emulators/openai-compatible.js';
import { collect, startStack, UPSTREAM_SECRET, type Stack } from './stack.js';

/** Chat completions through the gateway to an OpenAI-compatible upstream, with the official SDK as client. */

let stack: Stack;

before(async () => {
  stack = await startStack(
    (url) => `
models:
  - name: chat
    deployments:
      - provider: openai-compatible
        name: emu-chat
        base_url: ${url}
        model: emu-model
        api_key: ${UPSTREAM_SECRET}
  - name: sim
    deployments:
      - provider: simulator
        name: sim-0
        ttft_ms: 0
        tokens_per_second: 0
        output_tokens: 12
`,
  );
});
after(() => stack.close());

const SUBJECT = 'Grüße aus dem Stellwerk 🚂 — where does the 8:15 go?';
const messages = [
  { role: 'system' as const, content: 'Answer briefly.' },
  { role: 'user' as const, content: SUBJECT },
];

/** The one upstream request that carried this gateway request id. */
function upstreamRequest(requestId: string): Promise<RecordedRequest> {
  return stack.emulator.waitForRequest((request) => request.headers['x-request-id'] === requestId);
}

/** Chunks as a client that did not ask for usage must see them: without the `usage` field. */
function withoutUsage(chunks: readonly ChatCompletionChunk[]): unknown[] {
  return chunks.filter((chunk) => chunk.choices.length > 0).map(({ usage: _usage, ...rest }) => rest);
}

function content(chunks: readonly ChatCompletionChunk[], index = 0): string {
  let text = '';
  for (const chunk of chunks) for (const choice of chunk.choices) if (choice.index === index) text += choice.delta.content ?? '';
  return text;
}

describe('non-streamed chat', () => {
  test('answers with exactly what the upstream produced, with request id and deployment headers', async () => {
    const { data, response } = await stack.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    const original = await stack.direct.chat.completions.create({ model: 'emu-model', messages });
    assert.deepEqual(data, original);
    assert.equal(data.choices[0]!.message.content, chatAnswer(SUBJECT));
    assert.equal(data.usage?.total_tokens, planChat({ messages }).usage.total_tokens);

    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId !== null && requestId.length > 0, 'x-request-id is set');
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'emu-chat');

    const upstream = await upstreamRequest(requestId);
    assert.equal(upstream.method, 'POST');
    assert.equal(upstream.path, '/v1/chat/completions');
    assert.equal(upstream.problem, null);
    assert.equal(upstream.headers.authorization, `Bearer ${UPSTREAM_SECRET}`);
    assert.equal((upstream.body as { model: string }).model, 'emu-model');
  });

  test('a client-given x-request-id is echoed and forwarded upstream, with traceparent', async () => {
    const requestId = 'e2e-client-request-0001';
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { response } = await stack.client.chat.completions
      .create({ model: 'chat', messages }, { headers: { 'x-request-id': requestId, traceparent } })
      .withResponse();
    assert.equal(response.headers.get('x-request-id'), requestId);
    const upstream = await upstreamRequest(requestId);
    assert.equal(upstream.headers.traceparent, traceparent);
  });

  test('an x-request-id the gateway cannot use is replaced by its own', async () => {
    const { response } = await stack.client.chat.completions
      .create({ model: 'chat', messages }, { headers: { 'x-request-id': 'not a usable id\u00e9' } })
      .withResponse();
    const requestId = response.headers.get('x-request-id') ?? '';
    assert.match(requestId, /^[A-Za-z0-9._:@/+=-]{1,128}$/);
    await upstreamRequest(requestId);
  });

  test('n choices', async () => {
    const answer = await stack.client.chat.completions.create({ model: 'chat', messages, n: 3 });
    assert.deepEqual(
      answer.choices.map((choice) => [choice.index, choice.message.content]),
      [0, 1, 2].map((index) => [index, chatAnswer(SUBJECT, index)]),
    );
  });
});

describe('streamed chat', () => {
  test('without include_usage: content reassembled exactly, no usage anywhere, though the upstream was asked for it', async () => {
    const requestId = 'e2e-stream-no-usage';
    const stream = await stack.client.chat.completions.create({ model: 'chat', messages, stream: true }, { headers: { 'x-request-id': requestId } });
    const chunks = await collect(stream);
    assert.equal(content(chunks), chatAnswer(SUBJECT));
    for (const chunk of chunks) {
      assert.ok(!('usage' in chunk), `no usage field in ${JSON.stringify(chunk)}`);
      assert.ok(chunk.choices.length > 0, 'no usage-only chunk');
    }
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');

    const upstream = await upstreamRequest(requestId);
    const body = upstream.body as { stream?: unknown; stream_options?: unknown; model?: unknown };
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(upstream.headers.accept, 'text/event-stream');

    const original = await collect(await stack.direct.chat.completions.create({ model: 'emu-model', messages, stream: true }));
    assert.deepEqual(chunks, original, 'the chunks are the ones the upstream sends a client that did not ask for usage');
  });

  test('with include_usage: every chunk as the upstream sent it, ending in the usage chunk', async () => {
    const params = { messages, stream: true, stream_options: { include_usage: true } } as const;
    const chunks = await collect(await stack.client.chat.completions.create({ model: 'chat', ...params }));
    const original = await collect(await stack.direct.chat.completions.create({ model: 'emu-model', ...params }));
    assert.deepEqual(chunks, original);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage?.total_tokens, planChat({ messages }).usage.total_tokens);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
    assert.equal(content(chunks), chatAnswer(SUBJECT));
  });

  test('n choices, interleaved', async () => {
    const chunks = await collect(await stack.client.chat.completions.create({ model: 'chat', messages, n: 2, stream: true }));
    assert.equal(content(chunks, 0), chatAnswer(SUBJECT, 0));
    assert.equal(content(chunks, 1), chatAnswer(SUBJECT, 1));
    assert.deepEqual(withoutUsage(chunks), chunks);
  });

  test('finished streams leave their upstream connection open for the next request (keep-alive)', async () => {
    const before = { ...stack.emulator.connections };
    for (let i = 0; i < 5; i++) {
      const chunks = await collect(await stack.client.chat.completions.create({ model: 'chat', messages, stream: true }));
      assert.equal(content(chunks), chatAnswer(SUBJECT));
      await stack.emulator.requests.at(-1)!.closed;
    }
    assert.ok(stack.emulator.connections.opened - before.opened <= 1, `opened ${stack.emulator.connections.opened - before.opened} connections`);
    assert.equal(stack.emulator.connections.closed, before.closed);
  });

  test('the x-stellwerk-deployment and x-request-id headers come with a stream too', async () => {
    const { data, response } = await stack.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    await collect(data);
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'emu-chat');
    assert.ok((response.headers.get('x-request-id') ?? '').length > 0);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  });
});

describe('request fields pass through unchanged', () => {
  const fields = {
    messages: [
      { role: 'developer', content: 'You read timetables.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is on this picture?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_prev', type: 'function', function: { name: 'lookup', arguments: '{"q":"8:15"}' } }] },
      { role: 'tool', tool_call_id: 'call_prev', content: 'platform 3' },
      { role: 'user', content: 'And where does it go?' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'lookup',
          description: 'Looks up a train.',
          parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'], additionalProperties: false },
          strict: true,
        },
      },
    ],
    tool_choice: { type: 'function', function: { name: 'lookup' } },
    parallel_tool_calls: false,
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'answer',
        strict: true,
        schema: { type: 'object', properties: { to: { type: 'string' } }, required: ['to'], additionalProperties: false },
      },
    },
    n: 2,
    stop: ['\n\n', 'END'],
    seed: 4711,
    logprobs: true,
    top_logprobs: 3,
    max_tokens: 64,
    max_completion_tokens: 128,
    reasoning_effort: 'low',
    temperature: 0.25,
    top_p: 0.9,
    presence_penalty: 0.1,
    frequency_penalty: -0.1,
    logit_bias: { '50256': -100 },
    metadata: { suite: 'e2e' },
    user: 'e2e-user',
    service_tier: 'auto',
    vendor_extension: { a: 1, nested: { list: [1, 'two', null, true] } },
  };

  test('non-streamed: the upstream gets the same JSON, only model replaced', async () => {
    const requestId = 'e2e-passthrough-whole';
    const sent = { model: 'chat', ...fields };
    const answer = await stack.client.chat.completions.create(sent as unknown as ChatCompletionCreateParamsNonStreaming, {
      headers: { 'x-request-id': requestId },
    });
    assert.equal(answer.choices.length, 2);
    const upstream = await upstreamRequest(requestId);
    assert.equal(upstream.problem, null);
    assert.deepEqual(upstream.body, { ...sent, model: 'emu-model' });
  });

  test('non-streamed with an explicit stream: false: kept as sent', async () => {
    const requestId = 'e2e-passthrough-stream-false';
    const sent = { model: 'chat', ...fields, stream: false };
    await stack.client.chat.completions.create(sent as unknown as ChatCompletionCreateParamsNonStreaming, { headers: { 'x-request-id': requestId } });
    const upstream = await upstreamRequest(requestId);
    assert.deepEqual(upstream.body, { ...sent, model: 'emu-model' });
  });

  test('streamed: the same JSON, only model replaced and include_usage turned on', async () => {
    const requestId = 'e2e-passthrough-stream';
    const sent = { model: 'chat', ...fields, stream: true, stream_options: { include_usage: false } };
    const chunks = await collect(
      await stack.client.chat.completions.create(sent as unknown as ChatCompletionCreateParamsStreaming, { headers: { 'x-request-id': requestId } }),
    );
    assert.ok(chunks.length > 0);
    for (const chunk of chunks) assert.ok(!('usage' in chunk));
    const upstream = await upstreamRequest(requestId);
    assert.deepEqual(upstream.body, { ...sent, model: 'emu-model', stream_options: { include_usage: true } });
  });
});

describe('simulator deployment', () => {
  test('a stream says exactly what the whole answer says; usage only when asked for', async () => {
    const { data: whole, response } = await stack.client.chat.completions.create({ model: 'sim', messages }).withResponse();
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'sim-0');
    const text = whole.choices[0]!.message.content ?? '';
    assert.ok(text.length > 0);

    const plain = await collect(await stack.client.chat.completions.create({ model: 'sim', messages, stream: true }));
    assert.equal(content(plain), text);
    for (const chunk of plain) {
      assert.ok(!('usage' in chunk));
      assert.ok(chunk.choices.length > 0);
    }

    const counted = await collect(
      await stack.client.chat.completions.create({ model: 'sim', messages, stream: true, stream_options: { include_usage: true } }),
    );
    assert.equal(content(counted), text);
    assert.deepEqual(counted.at(-1)!.choices, []);
    assert.deepEqual(counted.at(-1)!.usage, whole.usage);
  });
});
