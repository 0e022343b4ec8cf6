import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest } from '../../core/types.js';
import { finishReason, toChatResponse, toMessagesRequest, toUsage } from './chat.js';
import type { Message } from './wire.js';

const settings = { model: 'claude-test', maxTokens: 4096 };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

function translate(request: Partial<ChatRequest>) {
  return toMessagesRequest({ model: 'alias', messages: [{ role: 'user', content: 'hi' }], ...request } as ChatRequest, settings);
}

function refused(request: Partial<ChatRequest>, param: string): void {
  assert.throws(
    () => translate(request),
    (error: unknown) => error instanceof GatewayError && error.code === 'invalid_request' && error.status === 400 && error.param === param,
    `expected a 400 naming ${param}`,
  );
}

test('the minimal request: the deployment model, the default max_tokens, one user turn as a string', () => {
  assert.deepEqual(translate({}), { model: 'claude-test', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(translate({ max_tokens: 50 }).max_tokens, 50);
  assert.equal(translate({ max_tokens: 50, max_completion_tokens: 70 }).max_tokens, 70);
});

test('system and developer messages become the top-level system, in order, wherever they stood', () => {
  const one = translate({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
  assert.equal(one.system, 'Be brief.');
  const many = translate({
    messages: [
      { role: 'system', content: 'A' },
      { role: 'user', content: 'hi' },
      { role: 'developer', content: [{ type: 'text', text: 'B' }, { type: 'text', text: 'C', cache_control: { type: 'ephemeral' } }] },
    ],
  });
  assert.deepEqual(many.system, [
    { type: 'text', text: 'A' },
    { type: 'text', text: 'B' },
    { type: 'text', text: 'C', cache_control: { type: 'ephemeral' } },
  ]);
  assert.deepEqual(many.messages, [{ role: 'user', content: 'hi' }]);
  refused({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' } }] }] }, 'messages[0].content[0]');
});

test('consecutive messages of one role are merged into one turn', () => {
  const body = translate({
    messages: [
      { role: 'user', content: 'one' },
      { role: 'user', content: [{ type: 'text', text: 'two' }] },
      { role: 'assistant', content: 'three' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'four' },
    ],
  });
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
    { role: 'assistant', content: 'three' },
    { role: 'user', content: 'four' },
  ]);
});

test('images: data URLs become base64 sources, http(s) URLs url sources; other kinds are refused', () => {
  const body = translate({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages[0]!.content, [
    { type: 'text', text: 'look' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
  ]);
  const image = (url: string) => ({ messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] }] });
  refused(image('data:image/bmp;base64,AAAA'), 'messages[0].content[0].image_url.url');
  refused(image('data:image/png,rawbytes'), 'messages[0].content[0].image_url.url');
  refused(image('ftp://example.com/a.png'), 'messages[0].content[0].image_url.url');
  refused({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0]');
});

test('a PDF file part becomes a document block; other files are refused', () => {
  const pdf = Buffer.from('%PDF-1.4 x').toString('base64');
  const body = translate({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'a.pdf' } }] }] });
  assert.deepEqual(body.messages[0]!.content, [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } }]);
  refused({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }, 'messages[0].content[0].file');
});

test('assistant tool calls become tool_use blocks; tool messages one user turn of tool_result blocks', () => {
  const body = translate({
    messages: [
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }, { type: 'text', text: 'CET' }] },
      { role: 'user', content: 'thanks' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather' } }],
  });
  assert.deepEqual(body.messages, [
    { role: 'user', content: 'weather and time?' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Köln' } },
        { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '12:00' }, { type: 'text', text: 'CET' }] },
        { type: 'text', text: 'thanks' },
      ],
    },
  ]);
  const call = (args: string) => ({
    messages: [{ role: 'user' as const, content: 'x' }, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'f', arguments: args } }] }],
  });
  refused(call('{not json'), 'messages[1].tool_calls[0].function.arguments');
  refused(call('[1,2]'), 'messages[1].tool_calls[0].function.arguments');
  refused({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
  refused({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role');
});

test('tools and tool_choice, with parallel_tool_calls', () => {
  const tools: ChatRequest['tools'] = [
    { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true } },
    { type: 'function', function: { name: 'ping' } },
  ];
  const body = translate({ tools });
  assert.deepEqual(body.tools, [
    { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
    { name: 'ping', input_schema: { type: 'object', properties: {} } },
  ]);
  assert.equal(body.tool_choice, undefined);
  assert.deepEqual(translate({ tools, tool_choice: 'auto' }).tool_choice, { type: 'auto' });
  assert.deepEqual(translate({ tools, tool_choice: 'none' }).tool_choice, { type: 'none' });
  assert.deepEqual(translate({ tools, tool_choice: 'required' }).tool_choice, { type: 'any' });
  assert.deepEqual(translate({ tools, tool_choice: { type: 'function', function: { name: 'ping' } } }).tool_choice, { type: 'tool', name: 'ping' });
  assert.deepEqual(translate({ tools, parallel_tool_calls: false }).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  assert.deepEqual(translate({ tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice, { type: 'any', disable_parallel_tool_use: true });
  assert.deepEqual(translate({ tools, tool_choice: 'none', parallel_tool_calls: false }).tool_choice, { type: 'none' });
  assert.deepEqual(translate({ tools, parallel_tool_calls: true }).tool_choice, undefined);
  // Without tools, "auto" and "none" mean nothing; asking for a call does.
  assert.deepEqual(Object.keys(translate({ tool_choice: 'none', parallel_tool_calls: false })).sort(), ['max_tokens', 'messages', 'model']);
  refused({ tool_choice: 'required' }, 'tool_choice');
  refused({ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0]');
  refused({ tools, tool_choice: { type: 'allowed_tools' } }, 'tool_choice');
});

test('sampling, stop, user and the response format', () => {
  const body = translate({ temperature: 0.2, top_p: 0.9, stop: 'END', user: 'u-1' });
  assert.equal(body.temperature, 0.2);
  assert.equal(body.top_p, 0.9);
  assert.deepEqual(body.stop_sequences, ['END']);
  assert.deepEqual(body.metadata, { user_id: 'u-1' });
  assert.deepEqual(translate({ stop: ['a', 'b'] }).stop_sequences, ['a', 'b']);
  assert.equal(translate({ stop: [] }).stop_sequences, undefined);
  assert.deepEqual(translate({ user: 'u-1', safety_identifier: 's-1' }).metadata, { user_id: 's-1' });
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  assert.deepEqual(translate({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }).output_config, {
    format: { type: 'json_schema', schema },
  });
  assert.equal(translate({ response_format: { type: 'text' } }).output_config, undefined);
  refused({ response_format: { type: 'json_object' } }, 'response_format');
  refused({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format');
});

test('values Anthropic cannot honour are refused; harmless ones pass', () => {
  refused({ n: 2 }, 'n');
  refused({ logprobs: true }, 'logprobs');
  refused({ top_logprobs: 3 }, 'top_logprobs');
  refused({ logit_bias: { '50256': -100 } }, 'logit_bias');
  refused({ modalities: ['text', 'audio'] }, 'modalities');
  assert.doesNotThrow(() => translate({ n: 1, logprobs: false, top_logprobs: 0, logit_bias: {}, modalities: ['text'] }));
});

const answer: Message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test-20250101',
  content: [
    { type: 'thinking', thinking: 'hmm', signature: 'sig' },
    { type: 'text', text: 'Let me ', citations: null },
    { type: 'text', text: 'check.', citations: null },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Köln' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 7, output_tokens_details: { thinking_tokens: 3 } },
};

test('an answer: text joined, tool_use as tool calls, thinking left out, usage with cached tokens', () => {
  assert.deepEqual(toChatResponse(answer, 1_700_000_000), {
    id: 'msg_1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'claude-test-20250101',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          refusal: null,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } }],
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: 115,
      completion_tokens: 7,
      total_tokens: 122,
      prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 5 },
      completion_tokens_details: { reasoning_tokens: 3 },
    },
  });
  const toolsOnly = toChatResponse({ ...answer, content: [answer.content[3]!] }, 0);
  assert.equal(toolsOnly.choices[0]!.message.content, null);
  const empty = toChatResponse({ ...answer, content: [], stop_reason: 'end_turn' }, 0);
  assert.equal(empty.choices[0]!.message.content, '');
  assert.equal(empty.choices[0]!.message.tool_calls, undefined);
});

test('stop reasons and usage without cache fields', () => {
  const expected: Record<string, string> = {
    end_turn: 'stop',
    stop_sequence: 'stop',
    pause_turn: 'stop',
    max_tokens: 'length',
    model_context_window_exceeded: 'length',
    tool_use: 'tool_calls',
    refusal: 'content_filter',
  };
  for (const [reason, finish] of Object.entries(expected)) assert.equal(finishReason(reason), finish, reason);
  assert.deepEqual(toUsage({ input_tokens: 3, output_tokens: 4 }), {
    prompt_tokens: 3,
    completion_tokens: 4,
    total_tokens: 7,
    prompt_tokens_details: { cached_tokens: 0 },
  });
});
