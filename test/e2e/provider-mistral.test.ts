import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, BadRequestError, RateLimitError, UnprocessableEntityError } from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { chatAnswer, embeddingVector } from '../emulators/openai-answers.js';
import { startMistralEmulator, THINKING, type MistralEmulator } from '../emulators/mistral.js';
import { assertNoLeak, collect, failure, gatewayClient } from './stack.js';

/**
 * Mistral through the gateway with the official OpenAI SDK as client, for what the conformance
 * suite does not cover: renamed and refused fields, ids from other providers, n, JSON output,
 * Mistral's finish reasons and reasoning chunks, embeddings (base64 made by the gateway), images
 * by URL, and each error class.
 */

const KEY = 'mistral-e2e-key-3e4f5a6b7c8d9e0f';
let emulator: MistralEmulator;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  emulator = await startMistralEmulator({ apiKey: KEY });
  const alias = (name: string, model = name) =>
    `  - name: ${name}\n    deployments:\n      - provider: mistral\n        base_url: ${emulator.url}\n        model: ${model}\n        api_key: ${KEY}\n`;
  const models = ['echo', 'thinking', 'model-length', 'error-finish', 'error-mid-stream', 'fail-400', 'fail-401', 'fail-429', 'fail-500'].map((name) => alias(name));
  gateway = await startGateway(`models:\n${models.join('')}${alias('embed', 'mistral-embed')}`, {});
  client = gatewayClient(gateway);
});
after(async () => {
  await gateway?.close();
  await emulator?.close();
});

const SUBJECT = 'Wann fährt der nächste Zug nach Lyon? 🚄';
const messages = [{ role: 'user' as const, content: SUBJECT }];
const sent = () => emulator.requests.at(-1)!.body as Record<string, unknown>;

describe('mistral: fields', () => {
  test('seed and max_completion_tokens arrive renamed; ignored fields are named in a header and not sent', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'echo', messages, seed: 11, max_completion_tokens: 64, user: 'u-7', metadata: { team: 'a' }, store: true })
      .withResponse();
    assert.equal(data.choices[0]!.message.content, chatAnswer(SUBJECT));
    assert.equal(response.headers.get('x-stellwerk-ignored-params'), 'metadata,store,user');
    const body = sent();
    assert.equal(body.random_seed, 11);
    assert.equal(body.max_tokens, 64);
    for (const field of ['seed', 'max_completion_tokens', 'user', 'metadata', 'store']) assert.equal(body[field], undefined, field);
    assert.equal(emulator.requests.at(-1)!.problem, null);
  });

  test('fields Mistral cannot honour are refused with 400 naming them, before anything is sent', async () => {
    const count = emulator.requests.length;
    for (const [params, param] of [
      [{ web_search_options: {} }, 'web_search_options'],
      [{ audio: { voice: 'alloy', format: 'wav' }, modalities: ['text', 'audio'] }, 'audio'],
      [{ logprobs: true }, 'logprobs'],
      [{ functions: [{ name: 'f' }] }, 'functions'],
    ] as const) {
      const error = await failure(() => client.chat.completions.create({ model: 'echo', messages, ...(params as object) }));
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.param, param);
    }
    assert.equal(emulator.requests.length, count);
    const harmless = await client.chat.completions.create({ model: 'echo', messages, logprobs: false, modalities: ['text'] });
    assert.equal(harmless.choices[0]!.finish_reason, 'stop');
  });

  test('a field Mistral does not know reaches Mistral, whose 422 reaches the client', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'echo', messages, foo: 1 } as never));
    assert.ok(error instanceof UnprocessableEntityError, String(error));
    assert.equal(error.message, '422 foo: Extra inputs are not permitted');
    assert.equal(error.param, 'foo');
    const own = await client.chat.completions.create({ model: 'echo', messages, safe_prompt: true, prompt_mode: null } as never);
    assert.equal(own.choices[0]!.finish_reason, 'stop');
    assert.equal(sent().safe_prompt, true);
  });

  test('n = 2 and a JSON schema answer', async () => {
    const two = await client.chat.completions.create({ model: 'echo', messages, n: 2 });
    assert.deepEqual(two.choices.map((choice) => choice.message.content), [chatAnswer(SUBJECT, 0), chatAnswer(SUBJECT, 1)]);
    const streamed = await collect(await client.chat.completions.create({ model: 'echo', messages, n: 2, stream: true }));
    for (const index of [0, 1]) {
      const text = streamed.flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index).map((choice) => choice.delta.content ?? '')).join('');
      assert.equal(text, chatAnswer(SUBJECT, index));
    }
    const schema = { name: 'echo', schema: { type: 'object', properties: { echo: { type: 'string' } } }, strict: true };
    const json = await client.chat.completions.create({ model: 'echo', messages, response_format: { type: 'json_schema', json_schema: schema } });
    assert.deepEqual(JSON.parse(json.choices[0]!.message.content!), { echo: SUBJECT, choice: 0 });
    assert.deepEqual(sent().response_format, { type: 'json_schema', json_schema: schema });
  });

  test('an http image URL travels as Mistral image_url', async () => {
    const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/lok.jpg' } };
    const answer = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: [{ type: 'text', text: SUBJECT }, image] }] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.deepEqual((sent().messages as { content: unknown[] }[])[0]!.content[1], image);
  });
});

describe('mistral: tool calls', () => {
  test('a conversation with another provider\'s tool-call ids is accepted, with tool_choice "required"', async () => {
    const foreign = 'call_AbCdEfGhIjKlMnOpQrStUvWx';
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const answer = await client.chat.completions.create({
      model: 'echo',
      tools,
      tool_choice: 'required',
      messages: [
        ...messages,
        { role: 'assistant', content: null, tool_calls: [{ id: foreign, type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: foreign, content: '{"sky":"clear"}' },
      ],
    });
    assert.equal(answer.choices[0]!.finish_reason, 'tool_calls');
    assert.match(answer.choices[0]!.message.tool_calls![0]!.id, /^[A-Za-z0-9]{9}$/);
    const body = sent();
    assert.equal(body.tool_choice, 'any');
    const ids = (body.messages as { tool_calls?: { id: string }[]; tool_call_id?: string }[]).slice(1).map((message) => message.tool_calls?.[0]?.id ?? message.tool_call_id);
    assert.equal(ids[0], ids[1]);
    assert.match(ids[0]!, /^[A-Za-z0-9]{9}$/);
  });
});

describe('mistral: finish reasons and reasoning', () => {
  test('model_length is "length", whole and streamed', async () => {
    const whole = await client.chat.completions.create({ model: 'model-length', messages });
    assert.equal(whole.choices[0]!.finish_reason, 'length');
    const chunks = await collect(await client.chat.completions.create({ model: 'model-length', messages, stream: true }));
    assert.equal(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]!.finish_reason, 'length');
  });

  test('finish_reason "error" is a 502 for a whole answer and an error event in a stream', async () => {
    const whole = await failure(() => client.chat.completions.create({ model: 'error-finish', messages }));
    assert.ok(whole instanceof APIError && whole.status === 502, String(whole));
    for (const model of ['error-finish', 'error-mid-stream']) {
      const stream = await client.chat.completions.create({ model, messages, stream: true });
      const error = await failure(() => collect(stream));
      assert.ok(error instanceof APIError, `${model}: ${String(error)}`);
    }
  });

  test('thinking arrives as reasoning_content, whole and streamed', async () => {
    const whole = await client.chat.completions.create({ model: 'thinking', messages });
    assert.equal(whole.choices[0]!.message.content, chatAnswer(SUBJECT));
    assert.equal((whole.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content, THINKING);
    const chunks = await collect(await client.chat.completions.create({ model: 'thinking', messages, stream: true }));
    const reasoning = chunks.map((chunk) => (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
    assert.equal(reasoning, THINKING);
  });
});

describe('mistral: embeddings', () => {
  test('base64 (the SDK default) is made by the gateway from Mistral\'s floats; float and dimensions as asked', async () => {
    const decoded = await client.embeddings.create({ model: 'embed', input: 'Stellwerk' });
    assert.deepEqual(decoded.data[0]!.embedding, embeddingVector('Stellwerk', 8));
    assert.deepEqual(sent(), { model: 'mistral-embed', input: 'Stellwerk' });
    const float = await client.embeddings.create({ model: 'embed', input: ['a', 'b'], encoding_format: 'float', dimensions: 4 });
    assert.deepEqual(float.data.map((item) => item.embedding), [embeddingVector('a', 4), embeddingVector('b', 4)]);
    assert.equal(sent().output_dimension, 4);
    const tokens = await failure(() => client.embeddings.create({ model: 'embed', input: [1, 2, 3] }));
    assert.ok(tokens instanceof BadRequestError);
    assert.equal(tokens.param, 'input');
  });
});

describe('mistral: errors', () => {
  test('400 passes through with Mistral\'s code, 429 keeps retry-after, 401 and 500 become 502', async () => {
    const bad = await failure(() => client.chat.completions.create({ model: 'fail-400', messages }));
    assert.ok(bad instanceof BadRequestError);
    assert.equal(bad.code, '3280');
    assert.equal(bad.type, 'invalid_function_call');
    const limited = await failure(() => client.chat.completions.create({ model: 'fail-429', messages }));
    assert.ok(limited instanceof RateLimitError);
    assert.equal(limited.headers.get('retry-after'), '7');
    for (const model of ['fail-401', 'fail-500']) {
      const error = await failure(() => client.chat.completions.create({ model, messages }));
      assert.ok(error instanceof APIError && error.status === 502, `${model}: ${String(error)}`);
      assertNoLeak(JSON.stringify(error.error), [KEY]);
    }
    for (const line of gateway.logs) assertNoLeak(JSON.stringify(line), [KEY]);
  });
});
