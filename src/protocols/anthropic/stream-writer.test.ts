import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChunkChoice, Usage } from '../../core/types.js';
import { AnthropicStreamWriter, sseEvent } from './stream-writer.js';

const OPTIONS = { stopSequences: ['END'], inputTokensEstimate: 9, requestId: 'req-1', model: 'fallback-model' };

function chunk(delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null, extra: Record<string, unknown> = {}): ChatChunk {
  return { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1, model: 'gpt-x', choices: [{ index: 0, delta, finish_reason: finish, ...extra }] };
}

function usageChunk(usage: Usage): ChatChunk {
  return { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1, model: 'gpt-x', choices: [], usage };
}

/** The events of an SSE text; each event's name must be its data's type. */
function events(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith('\n\n'), 'the text ends with a complete event');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const match = /^event: (\w+)\ndata: (.*)$/s.exec(frame);
      assert.ok(match !== null, `an event frame: ${frame}`);
      const data = JSON.parse(match[2]!) as Record<string, unknown>;
      assert.equal(data.type, match[1]);
      return data;
    });
}

function run(chunks: readonly ChatChunk[], options = OPTIONS): Record<string, unknown>[] {
  const writer = new AnthropicStreamWriter(options);
  let text = '';
  for (const value of chunks) text += writer.push(value);
  return events(text + writer.end());
}

test('text, then two tool calls, then the usage: the exact event sequence', () => {
  const out = run([
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Let me ' }),
    chunk({ content: 'check.' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Bern"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, prompt_tokens_details: { cached_tokens: 10 } }),
  ]);
  assert.deepEqual(out, [
    {
      type: 'message_start',
      message: {
        id: 'msg_chatcmpl-7',
        type: 'message',
        role: 'assistant',
        model: 'gpt-x',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 9, output_tokens: 0 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'check.' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Bern"}' } },
    { type: 'content_block_stop', index: 1 },
    { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} } },
    { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
    { type: 'content_block_stop', index: 2 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 10 },
    },
    { type: 'message_stop' },
  ]);
});

test('a chunk with nothing to show writes nothing after message_start; usage null is no usage', () => {
  const writer = new AnthropicStreamWriter(OPTIONS);
  assert.equal(events(writer.push(chunk({ role: 'assistant', content: '' }, null, {}))).length, 1);
  assert.equal(writer.push({ ...chunk({ content: null }), usage: null }), '');
  assert.equal(writer.usage, null);
});

test('without an upstream usage, message_delta keeps the estimate and reports 0 output tokens', () => {
  const out = run([chunk({ content: 'Hi' }), chunk({}, 'length')]);
  assert.deepEqual(out.at(-2), { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { input_tokens: 9, output_tokens: 0 } });
});

test('an empty stream is still a whole message', () => {
  assert.deepEqual(
    run([]).map((event) => event.type),
    ['message_start', 'message_delta', 'message_stop'],
  );
  assert.equal((run([])[0]!.message as { model: string }).model, 'fallback-model');
});

test('a stop sequence the upstream names becomes stop_sequence; a refusal becomes text and refusal', () => {
  const stopped = run([chunk({ content: 'one' }), chunk({}, 'stop', { stop_reason: 'END' })]);
  assert.deepEqual((stopped.at(-2) as { delta: unknown }).delta, { stop_reason: 'stop_sequence', stop_sequence: 'END' });
  const refused = run([chunk({ refusal: 'No.' }), chunk({}, 'stop')]);
  assert.deepEqual(refused[2], { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'No.' } });
  assert.equal((refused.at(-2) as { delta: { stop_reason: string } }).delta.stop_reason, 'refusal');
});

test('text after a tool call opens a new block; choices other than the first are not the message', () => {
  const out = run([
    chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] }),
    chunk({ content: 'Done.' }),
    { ...chunk({ content: 'other choice' }), choices: [{ index: 1, delta: { content: 'other choice' }, finish_reason: null }] },
    chunk({}, 'stop'),
  ]);
  assert.deepEqual(
    out.map((event) => `${String(event.type)}${event.index === undefined ? '' : `:${String(event.index)}`}`),
    ['message_start', 'content_block_start:0', 'content_block_delta:0', 'content_block_stop:0', 'content_block_start:1', 'content_block_delta:1', 'content_block_stop:1', 'message_delta', 'message_stop'],
  );
  assert.equal((out.at(-2) as { delta: { stop_reason: string } }).delta.stop_reason, 'tool_use');
});

test('a tool call without an id gets one; interleaved arguments cannot be carried and fail the stream', () => {
  const writer = new AnthropicStreamWriter(OPTIONS);
  const started = events(writer.push(chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{' } }] })));
  assert.deepEqual((started[1] as { content_block: unknown }).content_block, { type: 'tool_use', id: 'toolu_req-1_0', name: 'f', input: {} });
  writer.push(chunk({ tool_calls: [{ index: 1, id: 'd', function: { name: 'g', arguments: '' } }] }));
  assert.equal(writer.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '' } }] })), '');
  assert.throws(
    () => writer.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '}' } }] })),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response',
  );
});

test('the error event carries Anthropic\'s error shape', () => {
  assert.equal(sseEvent({ type: 'error' }, '{"type":"error"}'), 'event: error\ndata: {"type":"error"}\n\n');
});
