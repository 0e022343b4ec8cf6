import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, Message, MessageCreateParamsNonStreaming, MessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import { chatAnswer, planChat, toolArguments, toolCallId } from '../emulators/openai-answers.js';
import type { RecordedRequest } from '../emulators/openai-compatible.js';
import { gatewayClient, startStack, UPSTREAM_SECRET, type Stack } from './stack.js';

/**
 * Anthropic's own SDK as the client of /v1/messages, against an OpenAI-compatible upstream (the
 * emulator, whose answers are known exactly) and the in-process simulator. Whatever the upstream,
 * the client must get Anthropic's shapes: messages, stream events its helpers reassemble, tool_use
 * blocks with input objects.
 */

const MASTER_KEY = 'anthropic-e2e-master-3c9d';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack(
    (url) => `
auth:
  master_key: ${MASTER_KEY}
models:
  - name: emu
    deployments:
      - provider: openai-compatible
        name: emu-0
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
  client = new Anthropic({ baseURL: stack.gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
});
after(() => stack.close());

const SUBJECT = 'Grüße aus dem Stellwerk 🚂 — where does the 8:15 go?';
const SYSTEM = 'Answer briefly.';

function params(model: string, extra: Partial<MessageCreateParamsNonStreaming> = {}): MessageCreateParamsNonStreaming {
  return { model, max_tokens: 200, system: SYSTEM, messages: [{ role: 'user', content: SUBJECT }], ...extra };
}

const weatherTool = { name: 'get_weather', description: 'Weather by city.', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };
const timeTool = { name: 'get_time', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } };

/** The upstream request the emulator saw last (each test waits for its own answer first). */
function lastUpstream(): RecordedRequest & { body: Record<string, unknown> } {
  return stack.emulator.requests.at(-1)! as RecordedRequest & { body: Record<string, unknown> };
}

/** Streams with the SDK helper; returns the final message, the raw events and the text the `text` event gave. */
async function streamed(body: MessageCreateParamsNonStreaming) {
  const stream = client.messages.stream(body);
  const events: MessageStreamEvent[] = [];
  let text = '';
  stream.on('streamEvent', (event) => events.push(event));
  stream.on('text', (delta) => (text += delta));
  const final = await stream.finalMessage();
  return { final, events, text };
}

function textOf(content: readonly ContentBlock[]): string {
  return content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** The message as the SDK's stream helper and the whole answer both describe it. */
function essence(message: Message) {
  return { content: message.content.map(stripNulls), stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, usage: stripNulls(message.usage) };
}

function stripNulls(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== null && entry !== undefined));
}

describe('text', () => {
  test('openai-compatible: the upstream gets the canonical request and the answer comes back as a message', async () => {
    const message = await client.messages.create(params('emu', { stop_sequences: ['###'], temperature: 0.3, metadata: { user_id: 'u-1' } } as never));
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.match(message.id, /^msg_/);
    assert.equal(message.model, 'emu-model');
    assert.deepEqual(message.content, [{ type: 'text', text: chatAnswer(SUBJECT) }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.stop_sequence, null);
    const upstream = lastUpstream().body;
    assert.deepEqual(upstream.messages, [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: SUBJECT },
    ]);
    assert.equal(upstream.max_tokens, 200);
    assert.deepEqual(upstream.stop, ['###']);
    assert.equal(upstream.temperature, 0.3);
    assert.equal(upstream.user, 'u-1');
    const usage = planChat(upstream).usage;
    assert.deepEqual(message.usage, { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, cache_read_input_tokens: 0 });
  });

  test('simulator: the same words as through the OpenAI endpoint', async () => {
    const message = await client.messages.create(params('sim'));
    const openai = await gatewayClient(stack.gateway, { apiKey: MASTER_KEY }).chat.completions.create({
      model: 'sim',
      max_tokens: 200,
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: SUBJECT },
      ],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: openai.choices[0]!.message.content }]);
    // A limit above the simulator's answer length (output_tokens) ends the answer naturally.
    assert.equal(openai.choices[0]!.finish_reason, 'stop');
    assert.equal(message.stop_reason, 'end_turn');
    assert.deepEqual(message.usage, { input_tokens: openai.usage!.prompt_tokens, output_tokens: openai.usage!.completion_tokens });
    const short = await client.messages.create(params('sim', { max_tokens: 3 }));
    assert.equal(short.stop_reason, 'max_tokens');
    assert.equal(short.usage.output_tokens, 3);
  });

  for (const model of ['emu', 'sim']) {
    test(`${model}: .stream() reassembles exactly the whole answer, usage included`, async () => {
      const whole = await client.messages.create(params(model));
      const { final, events, text } = await streamed(params(model));
      assert.deepEqual(essence(final), essence(whole));
      assert.equal(text, textOf(whole.content));
      assert.ok(final.usage.input_tokens > 0 && final.usage.output_tokens > 0, 'usage is present');
      const types = events.map((event) => event.type);
      assert.equal(types[0], 'message_start');
      assert.deepEqual(types.slice(1, 2), ['content_block_start']);
      assert.ok(types.filter((type) => type === 'content_block_delta').length > 1, 'the text comes in pieces');
      assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    });
  }

  test('raw SSE: event names match their data, the content type is an event stream', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': MASTER_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...params('emu'), stream: true }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const frames = (await response.text()).split('\n\n').filter((frame) => frame !== '');
    for (const frame of frames) {
      const [eventLine, dataLine, ...rest] = frame.split('\n');
      assert.deepEqual(rest, []);
      assert.equal(eventLine!.slice('event: '.length), (JSON.parse(dataLine!.slice('data: '.length)) as { type: string }).type);
    }
    assert.equal(frames.at(-1), 'event: message_stop\ndata: {"type":"message_stop"}');
  });
});

describe('tools', () => {
  test('openai-compatible: tool_use blocks with input objects, whole and streamed alike', async () => {
    const body = params('emu', { tools: [weatherTool, timeTool] });
    const whole = await client.messages.create(body);
    const upstream = lastUpstream().body;
    assert.deepEqual(upstream.tools, [
      { type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema, description: 'Weather by city.' } },
      { type: 'function', function: { name: 'get_time', parameters: timeTool.input_schema } },
    ]);
    assert.deepEqual(whole.content, [
      { type: 'tool_use', id: toolCallId(SUBJECT, 'get_weather', 0), name: 'get_weather', input: JSON.parse(toolArguments(SUBJECT, 'get_weather')) },
      { type: 'tool_use', id: toolCallId(SUBJECT, 'get_time', 1), name: 'get_time', input: JSON.parse(toolArguments(SUBJECT, 'get_time')) },
    ]);
    assert.equal(whole.stop_reason, 'tool_use');
    const { final, events } = await streamed(body);
    assert.deepEqual(essence(final), essence(whole));
    const fragments = events.filter((event) => event.type === 'content_block_delta' && event.delta.type === 'input_json_delta');
    assert.ok(fragments.length > 2, 'the input comes as several input_json_delta fragments');
  });

  test('disable_parallel_tool_use and a named tool_choice reach the upstream', async () => {
    const one = await client.messages.create(params('emu', { tools: [weatherTool, timeTool], tool_choice: { type: 'auto', disable_parallel_tool_use: true } }));
    assert.equal(lastUpstream().body.parallel_tool_calls, false);
    assert.deepEqual(one.content.map((block) => block.type === 'tool_use' && block.name), ['get_weather']);
    const named = await client.messages.create(params('emu', { tools: [weatherTool, timeTool], tool_choice: { type: 'tool', name: 'get_time' } }));
    assert.deepEqual(lastUpstream().body.tool_choice, { type: 'function', function: { name: 'get_time' } });
    assert.deepEqual(named.content.map((block) => block.type === 'tool_use' && block.name), ['get_time']);
  });

  test('simulator: a tool call shaped by the schema, whole and streamed', async () => {
    const body = params('sim', { tools: [weatherTool] });
    const whole = await client.messages.create(body);
    assert.equal(whole.stop_reason, 'tool_use');
    assert.equal(whole.content.length, 1);
    const block = whole.content[0]!;
    assert.ok(block.type === 'tool_use');
    assert.deepEqual([block.name, block.input], ['get_weather', { city: 'example' }]);
    const { final } = await streamed(body);
    assert.deepEqual(essence(final), essence(whole));
  });

  for (const model of ['emu', 'sim']) {
    test(`${model}: the agent loop: a tool_result gets a text answer`, async () => {
      const first = await client.messages.create(params(model, { tools: [weatherTool] }));
      const call = first.content.find((block) => block.type === 'tool_use');
      assert.ok(call !== undefined && call.type === 'tool_use');
      const loop = await client.messages.create(
        params(model, {
          tools: [weatherTool],
          messages: [
            { role: 'user', content: SUBJECT },
            { role: 'assistant', content: first.content },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '21 °C, sunny' }] },
          ],
        }),
      );
      assert.equal(loop.stop_reason, 'end_turn');
      assert.deepEqual(loop.content.map((block) => block.type), ['text']);
      if (model === 'emu') {
        assert.deepEqual(loop.content, [{ type: 'text', text: chatAnswer('21 °C, sunny') }]);
        assert.deepEqual(lastUpstream().body.messages, [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: SUBJECT },
          { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.input) } }] },
          { role: 'tool', tool_call_id: call.id, content: '21 °C, sunny' },
        ]);
      }
    });
  }
});

describe('images and other fields', () => {
  test('a base64 image reaches the upstream as a data URL', async () => {
    const content = [
      { type: 'text' as const, text: 'What is this?' },
      { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: PNG } },
    ];
    const message = await client.messages.create(params('emu', { messages: [{ role: 'user', content }] }));
    assert.deepEqual(message.content, [{ type: 'text', text: chatAnswer('What is this? [image]') }]);
    assert.deepEqual((lastUpstream().body.messages as unknown[])[1], {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    });
    const simulated = await client.messages.create(params('sim', { messages: [{ role: 'user', content }] }));
    assert.equal(simulated.content[0]?.type, 'text');
  });

  test('fields without effect are named in x-stellwerk-ignored-params, under their Anthropic names', async () => {
    const body = params('sim', { temperature: 0.5, top_k: 5, metadata: { user_id: 'u' }, thinking: { type: 'enabled', budget_tokens: 1024 } } as never);
    const { response } = await client.messages.create(body).withResponse();
    assert.deepEqual(response.headers.get('x-stellwerk-ignored-params')?.split(',').sort(), ['metadata.user_id', 'temperature', 'thinking', 'top_k']);
    const passed = await client.messages.create(params('emu', { top_k: 5 } as never)).withResponse();
    assert.equal(passed.response.headers.get('x-stellwerk-ignored-params'), null);
    assert.equal(lastUpstream().body.top_k, 5);
  });

  test('count_tokens: an estimate for a known model, 404 for an unknown one', async () => {
    const counted = await client.messages.countTokens({ model: 'emu', system: SYSTEM, messages: [{ role: 'user', content: 'x'.repeat(400) }], tools: [weatherTool] });
    assert.ok(counted.input_tokens > 100 && counted.input_tokens < 200, `an estimate near 100 + tools: ${counted.input_tokens}`);
    await assert.rejects(client.messages.countTokens({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), Anthropic.NotFoundError);
  });
});
