import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, BadRequestError, NotFoundError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { answerText, CACHED, jsonAnswer, PREAMBLE, REFUSAL_TEXT, THINKING, toolInput } from '../emulators/anthropic-answers.js';
import { MID_STREAM_ERROR, startAnthropicEmulator, type AnthropicEmulator } from '../emulators/anthropic.js';
import { assertNoLeak, assertOpenAiError, collect, failure, gatewayClient, lastBody, within, type CapturedResponse } from './stack.js';

/**
 * The `anthropic` provider end to end, with the official `openai` SDK as the client and the
 * Anthropic emulator as the upstream: what the shared conformance suite does not cover —
 * images by URL, thinking and preamble blocks, cache usage, refusals, response formats, refused
 * and ignored fields, every error class, mid-stream failures, an unusable deployment, aborts.
 */

const KEY = 'sk-ant-e2e-secret-7f3a9c1b5d2e4f60';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const SUBJECT = 'Welcher Zug fährt nach Köln? 🚂';
const MODELS = [
  'echo', 'with-thinking', 'with-preamble', 'cached', 'refusal', 'slow-stream', 'error-mid-stream', 'reset-mid-stream', 'not-json',
  'leak-key-400', 'fail-401', 'fail-403', 'fail-404', 'fail-413', 'fail-429', 'fail-500', 'fail-529',
];

let emulator: AnthropicEmulator;
let gateway: RunningGateway;
let client: OpenAI;
const captured: CapturedResponse[] = [];
let savedKey: string | undefined;

before(async () => {
  // The keyless deployment below must find no key in the environment either.
  savedKey = process.env.ANTHROPIC_API_KEY;
  delete process.env.ANTHROPIC_API_KEY;
  emulator = await startAnthropicEmulator({ apiKey: KEY, slowEventMs: 10 });
  const aliases = MODELS.map(
    (model) => `
  - name: ${model}
    deployments:
      - provider: anthropic
        name: anthropic-${model}
        base_url: ${emulator.url}
        model: ${model}
        api_key: ${KEY}
        max_tokens: 200`,
  ).join('');
  gateway = await startGateway(
    `models:${aliases}
  - name: keyless
    deployments:
      - provider: anthropic
        name: anthropic-keyless
        base_url: ${emulator.url}
        model: echo
`,
    {},
  );
  client = gatewayClient(gateway, { captured });
});
after(async () => {
  await gateway?.close();
  await emulator?.close();
  if (savedKey !== undefined) process.env.ANTHROPIC_API_KEY = savedKey;
});

const ask = [{ role: 'user' as const, content: SUBJECT }];
const weather: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

function lastUpstreamBody(): Record<string, unknown> {
  const request = emulator.requests.at(-1)!;
  assert.equal(request.problem, null, `the emulator refused the request: ${String(request.problem)}`);
  return request.body as Record<string, unknown>;
}

describe('anthropic provider through the gateway', () => {
  test('images: a data URL becomes a base64 source, an https URL a url source', async () => {
    const answer = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Was siehst du?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'image_url', image_url: { url: 'https://example.com/zug.png' } }] }],
    });
    assert.equal(answer.choices[0]!.message.content, answerText('Was siehst du? [image] [image]'));
    const content = (lastUpstreamBody().messages as { content: unknown }[])[0]!.content;
    assert.deepEqual(content, [
      { type: 'text', text: 'Was siehst du?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/zug.png' } },
    ]);
  });

  test('a conversation OpenAI allows but Anthropic would not reaches it in alternating form', async () => {
    const answer = await client.chat.completions.create({
      model: 'echo',
      messages: [
        { role: 'user', content: 'Erstens.' },
        { role: 'user', content: 'Zweitens.' },
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Ja?' },
        { role: 'developer', content: 'Answer in German.' },
        { role: 'user', content: SUBJECT },
      ],
    });
    assert.equal(answer.choices[0]!.message.content, answerText(SUBJECT));
    const body = lastUpstreamBody();
    assert.deepEqual(body.system, [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Answer in German.' }]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Erstens.' }, { type: 'text', text: 'Zweitens.' }] },
      { role: 'assistant', content: 'Ja?' },
      { role: 'user', content: SUBJECT },
    ]);
  });

  test('embeddings are not offered by Anthropic: 400 unsupported_endpoint', async () => {
    const error = await failure(() => client.embeddings.create({ model: 'echo', input: 'x' }));
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(assertOpenAiError(await lastBody(captured)).code, 'unsupported_endpoint');
  });

  test('max_tokens ends with "length", a stop sequence with "stop"; the default max_tokens is the deployment\'s', async () => {
    const short = await client.chat.completions.create({ model: 'echo', messages: ask, max_tokens: 2 });
    assert.deepEqual([short.choices[0]!.message.content, short.choices[0]!.finish_reason], ['Echo: Welcher ', 'length']);
    const stopped = await client.chat.completions.create({ model: 'echo', messages: ask, stop: ' fährt' });
    assert.deepEqual([stopped.choices[0]!.message.content, stopped.choices[0]!.finish_reason], ['Echo: Welcher Zug', 'stop']);
    assert.equal(lastUpstreamBody().max_tokens, 200);
  });

  test('thinking is not shown, but its tokens are counted as reasoning tokens', async () => {
    const answer = await client.chat.completions.create({ model: 'with-thinking', messages: ask });
    assert.equal(answer.choices[0]!.message.content, answerText(SUBJECT));
    assert.ok(answer.usage!.completion_tokens_details!.reasoning_tokens! > 0);
    const chunks = await collect(await client.chat.completions.create({ model: 'with-thinking', messages: ask, stream: true }));
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, answerText(SUBJECT));
    assert.ok(!JSON.stringify(chunks).includes(THINKING.split(' ')[1]!));
  });

  test('text before a tool call arrives as content beside the tool call, whole and streamed', async () => {
    const answer = await client.chat.completions.create({ model: 'with-preamble', messages: ask, tools: [weather] });
    const message = answer.choices[0]!.message;
    assert.equal(message.content, PREAMBLE);
    assert.equal(answer.choices[0]!.finish_reason, 'tool_calls');
    const [call] = message.tool_calls!;
    assert.deepEqual(call?.type === 'function' && JSON.parse(call.function.arguments), toolInput(SUBJECT, 'get_weather'));
    const chunks: ChatCompletionChunk[] = await collect(await client.chat.completions.create({ model: 'with-preamble', messages: ask, tools: [weather], stream: true }));
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), PREAMBLE);
    const args = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).map((part) => part.function?.arguments ?? '').join('');
    assert.deepEqual(JSON.parse(args), toolInput(SUBJECT, 'get_weather'));
  });

  test('cache reads count as cached prompt tokens, whole and streamed', async () => {
    const answer = await client.chat.completions.create({ model: 'cached', messages: ask });
    assert.equal(answer.usage!.prompt_tokens_details!.cached_tokens, CACHED.read);
    assert.ok(answer.usage!.prompt_tokens > CACHED.read + CACHED.write);
    const chunks = await collect(await client.chat.completions.create({ model: 'cached', messages: ask, stream: true, stream_options: { include_usage: true } }));
    assert.deepEqual(chunks.at(-1)!.usage, answer.usage);
  });

  test('a refusal finishes with "content_filter"', async () => {
    const answer = await client.chat.completions.create({ model: 'refusal', messages: ask });
    assert.deepEqual([answer.choices[0]!.message.content, answer.choices[0]!.finish_reason], [REFUSAL_TEXT, 'content_filter']);
  });

  test('response_format json_schema is mapped to output_config; json_object is refused before any upstream call', async () => {
    const schema = { type: 'object', properties: { echo: { type: 'string' } }, required: ['echo'], additionalProperties: false };
    const answer = await client.chat.completions.create({
      model: 'echo', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'echo', schema, strict: true } },
    });
    assert.equal(answer.choices[0]!.message.content, jsonAnswer(SUBJECT));
    assert.deepEqual(lastUpstreamBody().output_config, { format: { type: 'json_schema', schema } });
    const before = emulator.requests.length;
    const refused = await failure(() => client.chat.completions.create({ model: 'echo', messages: ask, response_format: { type: 'json_object' } }));
    assert.ok(refused instanceof BadRequestError && refused.param === 'response_format', String(refused));
    assert.equal(emulator.requests.length, before);
  });

  test('fields it cannot honour are refused with 400 naming them; ignored ones are named in a header', async () => {
    for (const [extra, param] of [
      [{ n: 2 }, 'n'],
      [{ logprobs: true }, 'logprobs'],
      [{ functions: [{ name: 'f', parameters: {} }] }, 'functions'],
      [{ web_search_options: {} }, 'web_search_options'],
    ] as const) {
      const error = await failure(() => client.chat.completions.create({ model: 'echo', messages: ask, ...extra } as never));
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.param, param);
      assertOpenAiError(await lastBody(captured));
    }
    const answer = await client.chat.completions.create({ model: 'echo', messages: ask, seed: 7, frequency_penalty: 0.5, n: 1 });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.equal(captured.at(-1)!.headers.get('x-stellwerk-ignored-params'), 'frequency_penalty,seed');
  });

  test('every error class: 4xx keep their status, the deployment key and upstream failures are 502', async () => {
    const expected: [string, number, string | null][] = [
      ['fail-401', 502, null],
      ['fail-403', 502, null],
      ['fail-404', 404, 'not_found_error'],
      ['fail-413', 413, 'request_too_large'],
      ['fail-429', 429, 'rate_limit_error'],
      ['fail-500', 502, null],
      ['fail-529', 502, null],
    ];
    const errors = new Map<string, APIError>();
    for (const [model, status, type] of expected) {
      const error = await failure(() => client.chat.completions.create({ model, messages: ask }));
      assert.ok(error instanceof APIError && error.status === status, `${model}: ${String(error)}`);
      errors.set(model, error);
      const body = assertOpenAiError(await lastBody(captured));
      if (type !== null) assert.equal(body.type, type, model);
      assertNoLeak(JSON.stringify(body), [KEY]);
    }
    assert.ok(errors.get('fail-404') instanceof NotFoundError);
    assert.equal(errors.get('fail-429')!.headers?.get('retry-after'), '7');
    assert.match(errors.get('fail-529')!.message, /529.*Overloaded/);
    assert.match(errors.get('fail-401')!.message, /credentials/);
    const leaked = await failure(() => client.chat.completions.create({ model: 'leak-key-400', messages: ask }));
    assert.ok(leaked instanceof BadRequestError);
    assert.match(leaked.message, /\[redacted\]/);
    assertNoLeak(await captured.at(-1)!.text, [KEY]);
    const broken = await failure(() => client.chat.completions.create({ model: 'not-json', messages: ask }));
    assert.ok(broken instanceof APIError && broken.status === 502, String(broken));
  });

  test('failures mid-stream end the stream with an error event, never a hang', async () => {
    for (const model of ['error-mid-stream', 'reset-mid-stream', 'not-json']) {
      const seen: ChatCompletionChunk[] = [];
      // A failure before the first chunk may still become an error response; after it, an error event.
      const read = async () => {
        for await (const chunk of await client.chat.completions.create({ model, messages: ask, stream: true })) seen.push(chunk);
      };
      const error = await failure(() => within(read(), 5_000, `the end of ${model}`));
      assert.ok(error instanceof APIError, `${model}: ${String(error)}`);
      if (model === 'error-mid-stream') {
        assert.match(error.message, new RegExp(MID_STREAM_ERROR.message));
        assert.equal(seen[0]!.choices[0]!.delta.role, 'assistant');
      }
      assertNoLeak(await captured.at(-1)!.text, [KEY]);
    }
  });

  test('a deployment without a key is not used, and the answer says why', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'keyless', messages: ask }));
    assert.ok(error instanceof APIError && error.status === 503, String(error));
    assert.match(error.message, /no API key: set api_key or ANTHROPIC_API_KEY/);
    assert.ok(gateway.logs.some((line) => String(line.msg).includes('anthropic-keyless')));
  });

  test('a client that leaves mid-stream closes the upstream call', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'slow-stream', messages: ask, stream: true }, { signal: controller.signal });
    const recorded = emulator.requests.at(-1)!;
    let chunks = 0;
    try {
      for await (const _ of stream) {
        if (++chunks === 3) controller.abort();
      }
    } catch {
      // The SDK may end the loop quietly or with an abort error; either is a client leaving.
    }
    assert.equal(chunks, 3);
    assert.deepEqual(await within(recorded.closed, 3_000, 'the upstream call to close'), { aborted: true });
  });
});
