import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages/messages';
import { GatewayError } from '../../core/errors.js';
import { ANTHROPIC_REQUEST_FIELDS } from './fields.js';
import { toCanonicalRequest } from './translate-request.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

// Every field of the SDK's request is decided on; a field the SDK adds breaks this line until it is.
const decided: Record<keyof MessageCreateParamsBase, unknown> = ANTHROPIC_REQUEST_FIELDS;
void decided;

/** Runs the translation, which must fail with a 400 naming `param`; returns the message. */
function refusal(body: unknown, param: string, options = {}): string {
  try {
    toCanonicalRequest(body, options);
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    assert.ok(error.message.includes(param), `the message names ${param}: ${error.message}`);
    return error.message;
  }
  assert.fail(`expected a 400 naming ${param}`);
}

const minimal = { model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };

test('a minimal request', () => {
  const { request, notes } = toCanonicalRequest(minimal);
  assert.deepEqual(request, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 64 });
  assert.deepEqual(notes, { stopSequences: [], ignored: [], topK: undefined });
});

test('every mapped field, and a conversation with every kind of block', () => {
  const body = {
    model: 'claude',
    max_tokens: 256,
    system: [
      { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Answer in German.' },
    ],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in the picture, and the weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'The user wants…', signature: 'sig' },
          { type: 'text', text: 'A dot.' },
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Zürich' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '21 °C' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_2',
            is_error: true,
            content: [
              { type: 'text', text: 'clock' },
              { type: 'text', text: 'unavailable' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            ],
          },
          { type: 'text', text: 'Thanks.' },
        ],
      },
    ],
    stop_sequences: ['END', '###'],
    stream: true,
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    metadata: { user_id: 'user-42' },
    tools: [
      { name: 'get_weather', description: 'Weather by city.', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      { type: 'custom', name: 'get_time', input_schema: { type: 'object' }, strict: true, cache_control: { type: 'ephemeral' } },
    ],
    tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    output_config: { effort: 'low', format: { type: 'json_schema', schema: { type: 'object' } } },
    thinking: { type: 'enabled', budget_tokens: 2048 },
    service_tier: 'auto',
    some_future_field: 1,
  };
  const { request, notes } = toCanonicalRequest(body);
  const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } };
  assert.deepEqual(request, {
    model: 'claude',
    messages: [
      { role: 'system', content: 'You are terse.\n\nAnswer in German.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in the picture, and the weather?' },
          image,
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'A dot.\n\nLet me look.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Zürich"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '21 °C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: clock\nunavailable' },
      { role: 'user', content: [image, { type: 'text', text: 'Thanks.' }] },
    ],
    max_tokens: 256,
    stop: ['END', '###'],
    stream: true,
    temperature: 0.2,
    top_p: 0.9,
    user: 'user-42',
    tools: [
      {
        type: 'function',
        function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, description: 'Weather by city.' },
      },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object' }, strict: true } },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning_effort: 'low',
    response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' }, strict: true } },
  });
  assert.deepEqual(notes, { stopSequences: ['END', '###'], ignored: ['thinking', 'service_tier', 'some_future_field'], topK: 40 });
});

test('tool_choice: any → required, tool → named, none → none; without tools auto and none vanish', () => {
  const tools = [{ name: 't', input_schema: { type: 'object' } }];
  const choice = (tool_choice: unknown, withTools = true) => toCanonicalRequest({ ...minimal, tool_choice, ...(withTools ? { tools } : {}) }).request;
  assert.equal(choice({ type: 'any' }).tool_choice, 'required');
  assert.deepEqual(choice({ type: 'tool', name: 't' }).tool_choice, { type: 'function', function: { name: 't' } });
  assert.equal(choice({ type: 'none' }).tool_choice, 'none');
  assert.equal(choice({ type: 'auto', disable_parallel_tool_use: false }).parallel_tool_calls, undefined);
  assert.equal(choice({ type: 'auto' }, false).tool_choice, undefined);
  assert.equal(choice({ type: 'none' }, false).tool_choice, undefined);
  refusal({ ...minimal, tool_choice: { type: 'any' } }, 'tool_choice');
  refusal({ ...minimal, tools, tool_choice: { type: 'sometimes' } }, 'tool_choice.type');
  refusal({ ...minimal, tools, tool_choice: { type: 'tool' } }, 'tool_choice.name');
});

test('strings stay strings; a lone text block becomes a string; system messages inside messages are kept', () => {
  const { request } = toCanonicalRequest({
    ...minimal,
    system: 'Be brief.',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Also kind.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: 'Hello' },
      { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'x' }] },
      { role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The doc.' } }] },
      { role: 'user', content: [{ type: 'document', title: 'a.pdf', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }] },
    ],
  });
  assert.deepEqual(request.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'system', content: 'Also kind.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
    { role: 'user', content: 'The doc.' },
    { role: 'user', content: [{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }] },
  ]);
});

test('max_tokens is required for messages, not for count_tokens', () => {
  const { max_tokens: _omitted, ...body } = minimal;
  const message = refusal(body, 'max_tokens');
  assert.match(message, /Missing required parameter/);
  refusal({ ...minimal, max_tokens: 0 }, 'max_tokens');
  refusal({ ...minimal, max_tokens: 1.5 }, 'max_tokens');
  const counted = toCanonicalRequest({ ...body, stream: true }, { forCounting: true }).request;
  assert.equal(counted.max_tokens, undefined);
  assert.equal(counted.stream, undefined);
});

test('malformed requests are refused naming the field', () => {
  assert.throws(() => toCanonicalRequest([minimal]), (error: unknown) => error instanceof GatewayError && error.status === 400 && /JSON object/.test(error.message));
  refusal({ ...minimal, model: undefined }, 'model');
  refusal({ ...minimal, messages: undefined }, 'messages');
  refusal({ ...minimal, messages: [] }, 'messages');
  refusal({ ...minimal, messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role');
  refusal({ ...minimal, messages: [{ role: 'user' }] }, 'messages[0].content');
  refusal({ ...minimal, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text');
  refusal({ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }] }, 'messages[0].content[0].source.data');
  refusal({ ...minimal, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, 'messages[0].content[0].source.type');
  refusal({ ...minimal, messages: [{ role: 'user', content: [{ type: 'search_result', source: 's' }] }] }, 'messages[0].content[0]');
  refusal({ ...minimal, messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'messages[0].content[0].tool_use_id');
  refusal({ ...minimal, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'b', input: [1] }] }] }, 'messages[0].content[0].input');
  refusal({ ...minimal, system: 42 }, 'system');
  refusal({ ...minimal, stop_sequences: 'END' }, 'stop_sequences');
  refusal({ ...minimal, temperature: 'hot' }, 'temperature');
  refusal({ ...minimal, top_k: -1 }, 'top_k');
  refusal({ ...minimal, stream: 'yes' }, 'stream');
  refusal({ ...minimal, metadata: { user_id: 7 } }, 'metadata.user_id');
  refusal({ ...minimal, tools: [{ name: 't' }] }, 'tools[0].input_schema');
  refusal({ ...minimal, output_config: { format: { type: 'xml' } } }, 'output_config.format.type');
});

test('features that need Anthropic\'s servers are refused; hints without effect are listed', () => {
  assert.match(refusal({ ...minimal, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0]'), /server tool/);
  for (const field of ['container', 'mcp_servers', 'context_management']) refusal({ ...minimal, [field]: {} }, field);
  const { notes } = toCanonicalRequest({ ...minimal, cache_control: { type: 'ephemeral' }, speed: 'fast', container: null });
  assert.deepEqual(notes.ignored, ['cache_control', 'speed']);
  // Names that cannot go into a header are not named there.
  assert.deepEqual(toCanonicalRequest({ ...minimal, 'größe\n': 1, ok_field: 1 }).notes.ignored, ['ok_field']);
});
