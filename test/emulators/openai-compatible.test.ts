import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIConnectionError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { chatAnswer, embeddingVector, planChat, toolArguments, toolCallId } from './openai-answers.js';
import { startEmulator, type Emulator } from './openai-compatible.js';

/** The official SDK judges the emulator: what it sends must parse and accumulate as OpenAI's would. */

const KEY = 'sk-emulator-test-0123456789';
let emulator: Emulator;
let client: OpenAI;

before(async () => {
  emulator = await startEmulator({ apiKey: KEY, chunksBeforeFault: 2 });
  client = new OpenAI({ baseURL: emulator.url, apiKey: KEY, maxRetries: 0 });
});
after(() => emulator.close());

const messages = [{ role: 'user' as const, content: 'Grüße aus dem Stellwerk 🚂' }];

describe('openai-compatible emulator, judged by the openai SDK', () => {
  test('a chat answer echoes the last user message and records the request', async () => {
    const answer = await client.chat.completions.create({ model: 'emu-model', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer('Grüße aus dem Stellwerk 🚂'));
    assert.deepEqual(answer.usage?.total_tokens, planChat({ messages }).usage.total_tokens);
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.path, '/v1/chat/completions');
    assert.equal(recorded.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(recorded.body, { model: 'emu-model', messages });
    assert.equal(recorded.problem, null);
    assert.deepEqual(await recorded.closed, { aborted: false });
  });

  test('the SDK stream helper accumulates the stream into the same answer as the whole one', async () => {
    const whole = await client.chat.completions.create({ model: 'emu-model', messages, n: 2 });
    const stream = client.chat.completions.stream({ model: 'emu-model', messages, n: 2, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    stream.on('chunk', (chunk) => chunks.push(chunk));
    const final = await stream.finalChatCompletion();
    assert.deepEqual(
      final.choices.map((choice) => choice.message.content),
      whole.choices.map((choice) => choice.message.content),
    );
    assert.deepEqual(final.usage, whole.usage);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null, 'every chunk but the last has usage: null');
    assert.deepEqual(chunks.at(-1)!.choices, []);
  });

  test('without include_usage no chunk has a usage field', async () => {
    const stream = await client.chat.completions.create({ model: 'emu-model', messages, stream: true });
    for await (const chunk of stream) assert.ok(!('usage' in chunk));
  });

  test('tool calls, whole and streamed, parallel', async () => {
    const tools = ['get_weather', 'get_time'].map((name) => ({
      type: 'function' as const,
      function: { name, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    }));
    const whole = await client.chat.completions.create({ model: 'emu-model', messages, tools });
    const expected = ['get_weather', 'get_time'].map((name, index) => ({
      id: toolCallId(messages[0]!.content, name, index),
      type: 'function',
      function: { name, arguments: toolArguments(messages[0]!.content, name) },
    }));
    assert.deepEqual(whole.choices[0]!.message.tool_calls, expected);
    const final = await client.chat.completions.stream({ model: 'emu-model', messages, tools }).finalChatCompletion();
    assert.deepEqual(
      final.choices[0]!.message.tool_calls?.map(({ id, type, function: fn }) => ({ id, type, function: { name: fn.name, arguments: fn.arguments } })),
      expected,
    );
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
  });

  test('embeddings: float, and base64 as the SDK asks by default', async () => {
    const float = await client.embeddings.create({ model: 'emu-embed', input: ['a', 'b'], encoding_format: 'float' });
    assert.deepEqual(float.data.map((item) => item.embedding), [embeddingVector('a', 8), embeddingVector('b', 8)]);
    const decoded = await client.embeddings.create({ model: 'emu-embed', input: 'a', dimensions: 5 });
    assert.equal(emulator.requests.at(-1)!.body && (emulator.requests.at(-1)!.body as { encoding_format: string }).encoding_format, 'base64');
    assert.deepEqual(decoded.data[0]!.embedding, embeddingVector('a', 5));
  });

  test('legacy completions and the model list', async () => {
    const completion = await client.completions.create({ model: 'emu-model', prompt: 'Say hi' });
    assert.equal(completion.choices[0]!.text, ' completed[0]: Say hi');
    let streamed = '';
    for await (const chunk of await client.completions.create({ model: 'emu-model', prompt: 'Say hi', stream: true })) {
      streamed += chunk.choices[0]?.text ?? '';
    }
    assert.equal(streamed, completion.choices[0]!.text);
    const models = await client.models.list();
    assert.ok(models.data.some((model) => model.id === 'emu-model'));
  });

  test('faults are chosen by model id', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'fail-400', messages }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'max_tokens');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'fail-401', messages }), AuthenticationError);
    await assert.rejects(client.chat.completions.create({ model: 'fail-429', messages }), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.headers.get('retry-after'), '7');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'fail-500', messages }), InternalServerError);
    await assert.rejects(client.chat.completions.create({ model: 'reset', messages }), APIConnectionError);
    const stream = await client.chat.completions.create({ model: 'reset-mid-stream', messages, stream: true });
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const _ of stream) chunks++;
    });
    assert.equal(chunks, 3);
  });

  test('a request without the key, or without a model, is refused as OpenAI would', async () => {
    const anonymous = new OpenAI({ baseURL: emulator.url, apiKey: 'sk-wrong-key-000000', maxRetries: 0 });
    await assert.rejects(anonymous.models.list(), AuthenticationError);
    await assert.rejects(client.chat.completions.create({ messages } as never), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'model');
      return true;
    });
    assert.equal(emulator.requests.at(-1)!.problem, "Missing required parameter: 'model'.");
  });

  test('a hanging request is seen closed when the client gives up', async () => {
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'hang', messages }, { signal: controller.signal });
    const recorded = await emulator.waitForRequest((request) => (request.body as { model?: string } | undefined)?.model === 'hang');
    controller.abort();
    await assert.rejects(pending);
    assert.deepEqual(await recorded.closed, { aborted: true });
  });
});
