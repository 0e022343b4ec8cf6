import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest } from '../../core/types.js';
import { simulatorDeploymentSchema } from './config.js';
import { SimulatorAdapter } from './adapter.js';

function simulator(settings: Record<string, unknown> = {}) {
  return new SimulatorAdapter(simulatorDeploymentSchema.parse({ provider: 'simulator', ttft_ms: 0, tokens_per_second: 0, ...settings }));
}

function call(signal = new AbortController().signal) {
  return { signal, requestId: 'req-1', forwardHeaders: {} };
}

const hello: ChatRequest = { model: 'demo', messages: [{ role: 'user', content: 'hello' }] };

async function streamed(adapter: SimulatorAdapter, request: ChatRequest): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const event of await adapter.chatStream(request, call())) chunks.push(event.value);
  return chunks;
}

test('the same prompt gives the same answer; another prompt another one', async () => {
  const adapter = simulator();
  const a = (await adapter.chat(hello, call())).value.choices[0]!.message.content;
  const b = (await adapter.chat(hello, call())).value.choices[0]!.message.content;
  const c = (await adapter.chat({ ...hello, messages: [{ role: 'user', content: 'other' }] }, call())).value.choices[0]!.message.content;
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('a stream says exactly what the whole answer says, then the usage', async () => {
  const adapter = simulator();
  const whole = (await adapter.chat(hello, call())).value;
  const chunks = await streamed(adapter, hello);
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, whole.choices[0]!.message.content);
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(chunks.at(-1)!.usage, whole.usage);
  assert.deepEqual(chunks.at(-1)!.choices, []);
});

test('max_tokens bounds the answer and finishes with "length"; stop cuts it', async () => {
  const adapter = simulator();
  const short = (await adapter.chat({ ...hello, max_tokens: 3 }, call())).value;
  assert.equal(short.usage!.completion_tokens, 3);
  assert.equal(short.choices[0]!.finish_reason, 'length');
  const full = (await adapter.chat(hello, call())).value.choices[0]!.message.content as string;
  const word = full.split(' ')[2]!;
  const cut = (await adapter.chat({ ...hello, stop: [` ${word}`] }, call())).value.choices[0]!;
  assert.equal(cut.message.content, full.slice(0, full.indexOf(` ${word}`)));
  assert.equal(cut.finish_reason, 'stop');
});

test('n gives n different choices', async () => {
  const response = (await simulator().chat({ ...hello, n: 3 }, call())).value;
  assert.equal(response.choices.length, 3);
  assert.equal(new Set(response.choices.map((choice) => choice.message.content)).size, 3);
});

test('offered tools are called, with arguments shaped by their schema, streamed as OpenAI does', async () => {
  const request: ChatRequest = {
    ...hello,
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } }],
  };
  const adapter = simulator();
  const whole = (await adapter.chat(request, call())).value.choices[0]!;
  assert.equal(whole.finish_reason, 'tool_calls');
  assert.deepEqual(JSON.parse(whole.message.tool_calls![0]!.function.arguments), { city: 'example', days: 1 });
  const chunks = await streamed(adapter, request);
  const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.equal(calls[0]!.function!.name, 'get_weather');
  assert.equal(calls.map((part) => part.function?.arguments ?? '').join(''), whole.message.tool_calls![0]!.function.arguments);
  const answered = (await adapter.chat({ ...request, messages: [...request.messages, { role: 'tool', tool_call_id: 'x', content: 'sunny' }] }, call())).value;
  assert.equal(answered.choices[0]!.finish_reason, 'stop');
  assert.equal((await adapter.chat({ ...request, tool_choice: 'none' }, call())).value.choices[0]!.finish_reason, 'stop');
});

test('embeddings are unit vectors, the same in float and base64', async () => {
  const adapter = simulator({ embedding_dimensions: 8 });
  const float = (await adapter.embeddings({ model: 'e', input: ['a', 'b'] }, call())).value;
  assert.equal(float.data.length, 2);
  const vector = float.data[0]!.embedding as number[];
  assert.equal(vector.length, 8);
  assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-9);
  const base64 = (await adapter.embeddings({ model: 'e', input: ['a', 'b'], encoding_format: 'base64' }, call())).value;
  const decoded = new Float32Array(Uint8Array.from(Buffer.from(base64.data[0]!.embedding as string, 'base64')).buffer);
  assert.deepEqual([...decoded], vector.map((value) => Math.fround(value)));
});

test('timing is honoured and an abort stops the wait at once with its reason', async () => {
  const adapter = simulator({ ttft_ms: 60_000 });
  const controller = new AbortController();
  const pending = adapter.chat(hello, call(controller.signal));
  controller.abort(new GatewayError('upstream_timeout'));
  await assert.rejects(pending, (error: unknown) => error instanceof GatewayError && error.code === 'upstream_timeout');
});
