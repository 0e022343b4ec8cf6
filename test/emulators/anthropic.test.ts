import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic, { APIError, AuthenticationError, BadRequestError, InternalServerError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import type { MessageParam, RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages';
import { answerText, CACHED, toolInput, toolUseId } from './anthropic-answers.js';
import { BAD_REQUEST_MESSAGE, startAnthropicEmulator, type AnthropicEmulator } from './anthropic.js';

/**
 * The official SDK judges the emulator: what the emulator sends must parse, stream and
 * accumulate as Anthropic's API would, and what the SDK sends must be accepted.
 */

const KEY = 'sk-ant-emulator-test-0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
let emulator: AnthropicEmulator;
let client: Anthropic;
/** The SDK speaking the version Stellwerk speaks, for the features that differ between versions. */
let v2023: Anthropic;

before(async () => {
  emulator = await startAnthropicEmulator({ apiKey: KEY });
  client = new Anthropic({ baseURL: emulator.url, apiKey: KEY, maxRetries: 0 });
  v2023 = new Anthropic({ baseURL: emulator.url, apiKey: KEY, maxRetries: 0, defaultHeaders: { 'anthropic-version': '2023-06-01' } });
});
after(() => emulator.close());

const SUBJECT = 'Grüße aus dem Stellwerk 🚂';
const messages: MessageParam[] = [{ role: 'user', content: SUBJECT }];
const weather: Tool = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };
const time: Tool = { name: 'get_time', input_schema: { type: 'object', properties: {} } };

describe('anthropic emulator, judged by @anthropic-ai/sdk', () => {
  test('a message echoes the last user turn, with usage and the SDK-visible request id', async () => {
    const message = await client.messages.create({ model: 'echo', max_tokens: 100, system: 'Be brief.', messages });
    assert.equal(message.type, 'message');
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(message.content, [{ type: 'text', text: answerText(SUBJECT), citations: null }]);
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.problem, null);
    assert.equal(recorded.headers.authorization, `Bearer ${KEY}`);
    assert.equal(recorded.headers['anthropic-version'], '2026-10-21');
  });

  test('the stream helper accumulates the stream into the same message as the whole answer', async () => {
    const whole = await client.messages.create({ model: 'with-thinking', max_tokens: 100, messages });
    const stream = client.messages.stream({ model: 'with-thinking', max_tokens: 100, messages });
    const events: RawMessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(event));
    const final = await stream.finalMessage();
    assert.deepEqual(final.content, whole.content);
    assert.equal(final.stop_reason, whole.stop_reason);
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(events[0]!.type, 'message_start');
    assert.equal(events.at(-1)!.type, 'message_stop');
    assert.ok(events.filter((event) => event.type === 'content_block_delta').length > 3);
  });

  test('tools: tool_use blocks, streamed input JSON, and a round trip with tool_result', async () => {
    const whole = await client.messages.create({ model: 'echo', max_tokens: 100, messages, tools: [weather, time] });
    assert.equal(whole.stop_reason, 'tool_use');
    const uses = whole.content.filter((block) => block.type === 'tool_use');
    assert.deepEqual(
      uses.map((block) => ({ id: block.id, name: block.name, input: block.input })),
      [weather, time].map((tool, index) => ({ id: toolUseId(SUBJECT, tool.name, index), name: tool.name, input: toolInput(SUBJECT, tool.name) })),
    );
    const streamed = await client.messages.stream({ model: 'echo', max_tokens: 100, messages, tools: [weather] }).finalMessage();
    assert.deepEqual(streamed.content.map((block) => block.type === 'tool_use' && block.input), [toolInput(SUBJECT, 'get_weather')]);
    const single = await client.messages.create({
      model: 'echo', max_tokens: 100, messages, tools: [weather, time], tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    assert.equal(single.content.length, 1);
    const named = await client.messages.create({ model: 'echo', max_tokens: 100, messages, tools: [weather, time], tool_choice: { type: 'tool', name: 'get_time' } });
    assert.equal(named.content[0]!.type === 'tool_use' && named.content[0]!.name, 'get_time');
    const use = single.content[0]!;
    assert.ok(use.type === 'tool_use');
    const answer = await client.messages.create({
      model: 'echo',
      max_tokens: 100,
      tools: [weather, time],
      messages: [...messages, { role: 'assistant', content: single.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] }],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    assert.deepEqual(answer.content, [{ type: 'text', text: answerText('sunny'), citations: null }]);
  });

  test('images: a base64 PNG and a URL are taken; a wrong media type is refused', async () => {
    const image = await client.messages.create({
      model: 'echo',
      max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'what?' }] }],
    });
    assert.deepEqual(image.content, [{ type: 'text', text: answerText('[image] [image] what?'), citations: null }]);
    await assert.rejects(
      client.messages.create({ model: 'echo', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } }] }] }),
      (error: unknown) => error instanceof BadRequestError && /does not match the provided media type/.test(error.message),
    );
  });

  test('cache usage, refusal, stop sequences and max_tokens', async () => {
    const cached = await client.messages.create({ model: 'cached', max_tokens: 100, messages });
    assert.equal(cached.usage.cache_read_input_tokens, CACHED.read);
    assert.equal(cached.usage.cache_creation_input_tokens, CACHED.write);
    const refused = await client.messages.create({ model: 'refusal', max_tokens: 100, messages });
    assert.equal(refused.stop_reason, 'refusal');
    const stopped = await client.messages.create({ model: 'echo', max_tokens: 100, messages, stop_sequences: [' aus'] });
    assert.deepEqual([stopped.stop_reason, stopped.stop_sequence, stopped.content[0]!.type === 'text' && stopped.content[0]!.text], ['stop_sequence', ' aus', 'Echo: Grüße']);
    const short = await client.messages.create({ model: 'echo', max_tokens: 2, messages });
    assert.equal(short.stop_reason, 'max_tokens');
    assert.equal(short.usage.output_tokens, 2);
  });

  test('errors come as the SDK knows them', async () => {
    await assert.rejects(client.messages.create({ model: 'fail-400', max_tokens: 10, messages }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.match(error.message, new RegExp(BAD_REQUEST_MESSAGE));
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.requestID ?? '', /^req_emu_/);
      return true;
    });
    await assert.rejects(client.messages.create({ model: 'fail-429', max_tokens: 10, messages }), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.headers.get('retry-after'), '7');
      return true;
    });
    await assert.rejects(client.messages.create({ model: 'fail-401', max_tokens: 10, messages }), AuthenticationError);
    await assert.rejects(client.messages.create({ model: 'fail-500', max_tokens: 10, messages }), InternalServerError);
    await assert.rejects(client.messages.create({ model: 'fail-529', max_tokens: 10, messages }), OverloadedError);
    const stream = await client.messages.create({ model: 'error-mid-stream', max_tokens: 100, messages, stream: true });
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const event of stream) seen.push(event.type);
      },
      (error: unknown) => error instanceof APIError && /Overloaded/.test(error.message),
    );
    assert.equal(seen[0], 'message_start');
  });

  test('what the API refuses is refused: no key, no max_tokens, roles not alternating, sampling on 2026-10-21', async () => {
    const anonymous = new Anthropic({ baseURL: emulator.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    await assert.rejects(anonymous.messages.create({ model: 'echo', max_tokens: 10, messages }), AuthenticationError);
    await assert.rejects(client.messages.create({ model: 'echo', messages } as never), /max_tokens: Field required/);
    await assert.rejects(
      client.messages.create({ model: 'echo', max_tokens: 10, messages: [...messages, { role: 'user', content: 'again' }] }),
      /roles must alternate/,
    );
    await assert.rejects(client.messages.create({ model: 'echo', max_tokens: 10, messages, temperature: 0.5 } as never), /temperature: Extra inputs/);
    const sampled = await v2023.messages.create({ model: 'echo', max_tokens: 10, messages, temperature: 0.5, top_p: 0.9 } as never);
    assert.equal(sampled.stop_reason, 'end_turn');
    await assert.rejects(
      v2023.messages.create({ model: 'echo', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }),
      /text content blocks must be non-empty/,
    );
    await assert.rejects(
      v2023.messages.create({ model: 'echo', max_tokens: 10, messages: [...messages, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] }] }),
      /must define tools/,
    );
  });
});
