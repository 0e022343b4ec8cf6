import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatResponse } from '../../core/types.js';
import { anthropicUsage, messageId, toAnthropicMessage } from './translate-response.js';

function response(message: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}): ChatResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-x',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish as never, ...extra }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}

test('a text answer', () => {
  assert.deepEqual(toAnthropicMessage(response({ content: 'Hello there.' }, 'stop'), []), {
    id: 'msg_chatcmpl-1',
    type: 'message',
    role: 'assistant',
    model: 'gpt-x',
    content: [{ type: 'text', text: 'Hello there.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 5 },
  });
});

test('tool calls become tool_use blocks with parsed input, after the text', () => {
  const message = toAnthropicMessage(
    response(
      {
        content: 'Looking it up.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bern","days":2}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      'tool_calls',
    ),
    [],
  );
  assert.deepEqual(message.content, [
    { type: 'text', text: 'Looking it up.' },
    { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Bern', days: 2 } },
    { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
  ]);
  assert.equal(message.stop_reason, 'tool_use');
  // Some servers say "stop" for tool calls: still tool_use.
  assert.equal(toAnthropicMessage(response({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'stop'), []).stop_reason, 'tool_use');
});

test('stop reasons: length, content_filter, refusal, and a stop sequence only when the upstream says which', () => {
  assert.equal(toAnthropicMessage(response({ content: 'a' }, 'length'), []).stop_reason, 'max_tokens');
  assert.equal(toAnthropicMessage(response({ content: '' }, 'content_filter'), []).stop_reason, 'refusal');
  const refused = toAnthropicMessage(response({ content: null, refusal: 'I cannot help with that.' }, 'stop'), []);
  assert.deepEqual([refused.content, refused.stop_reason], [[{ type: 'text', text: 'I cannot help with that.' }], 'refusal']);
  const matched = toAnthropicMessage(response({ content: 'one two' }, 'stop', { stop_reason: 'END' }), ['END']);
  assert.deepEqual([matched.stop_reason, matched.stop_sequence], ['stop_sequence', 'END']);
  // vLLM reports the EOS token id there when no stop string matched.
  const eos = toAnthropicMessage(response({ content: 'one two' }, 'stop', { stop_reason: 2 }), ['END']);
  assert.deepEqual([eos.stop_reason, eos.stop_sequence], ['end_turn', null]);
  assert.deepEqual(toAnthropicMessage(response({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, 'stop'), []).content, [{ type: 'text', text: 'ab' }]);
  assert.deepEqual(toAnthropicMessage(response({ content: '' }, 'length'), []).content, []);
});

test('usage: cached prompt tokens move to cache_read_input_tokens', () => {
  assert.deepEqual(anthropicUsage({ prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 60 } }), {
    input_tokens: 40,
    output_tokens: 7,
    cache_read_input_tokens: 60,
  });
  assert.deepEqual(anthropicUsage({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: null }), { input_tokens: 3, output_tokens: 1 });
  const { usage: _usage, ...withoutUsage } = response({ content: 'x' }, 'stop');
  assert.deepEqual(toAnthropicMessage(withoutUsage as ChatResponse, []).usage, { input_tokens: 0, output_tokens: 0 });
});

test('what cannot be expressed is the upstream\'s fault: 502', () => {
  const bad = (value: ChatResponse) =>
    assert.throws(() => toAnthropicMessage(value, []), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response' && error.status === 502);
  bad(response({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"city": "Be' } }] }, 'tool_calls'));
  bad(response({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }, 'tool_calls'));
  bad({ ...response({ content: 'x' }, 'stop'), choices: [] });
});

test('message ids start with msg_', () => {
  assert.equal(messageId('chatcmpl-9'), 'msg_chatcmpl-9');
  assert.equal(messageId('msg_01abc'), 'msg_01abc');
  assert.equal(messageId(undefined), 'msg_unknown');
});
