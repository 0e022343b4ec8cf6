import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk } from '../../core/types.js';
import type { StreamFrame } from './event-stream.js';
import { ConverseChunkTranslator } from './stream.js';

const META = { id: 'chatcmpl-req1', model: 'anthropic.claude-3-haiku', created: 1_700_000_000 };
const ev = (type: string, payload: Record<string, unknown>): StreamFrame => ({ kind: 'event', type, payload });

function translate(frames: StreamFrame[], secrets: string[] = []): ChatChunk[] {
  const translator = new ConverseChunkTranslator(META, secrets);
  const out = frames.flatMap((frame) => translator.translate(frame));
  translator.finish();
  return out;
}

const choice = (chunk: ChatChunk) => chunk.choices[0]!;

test('text: a role chunk first, content deltas, the finish chunk, then the usage chunk', () => {
  const out = translate([
    ev('messageStart', { role: 'assistant' }),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hal' } }),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }),
    ev('contentBlockStop', { contentBlockIndex: 0 }),
    ev('messageStop', { stopReason: 'end_turn' }),
    ev('metadata', { usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9, cacheReadInputTokens: 4 } }),
  ]);
  assert.deepEqual(out.map((chunk) => chunk.choices[0]?.delta ?? null), [{ role: 'assistant', content: '' }, { content: 'Hal' }, { content: 'lo' }, {}, null]);
  assert.deepEqual(out.map((chunk) => chunk.choices[0]?.finish_reason ?? null), [null, null, null, 'stop', null]);
  for (const chunk of out) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, META.id);
    assert.equal(chunk.model, META.model);
    assert.equal(chunk.created, META.created);
  }
  assert.deepEqual(out.at(-1), { ...out.at(-1), choices: [], usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } } });
});

test('tool calls: numbered in order of start whatever the block index, name with "" arguments first, then fragments', () => {
  const out = translate([
    ev('messageStart', { role: 'assistant' }),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Moment.' } }),
    ev('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_a', name: 'get_weather' } } }),
    ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
    ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"Köln"}' } } }),
    ev('contentBlockStop', { contentBlockIndex: 1 }),
    ev('contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tu_b', name: 'get_time' } } }),
    ev('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{}' } } }),
    ev('messageStop', { stopReason: 'tool_use' }),
    ev('metadata', { usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }),
  ]);
  const calls = out.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(calls, [
    { index: 0, id: 'tu_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
    { index: 0, function: { arguments: '{"city":' } },
    { index: 0, function: { arguments: '"Köln"}' } },
    { index: 1, id: 'tu_b', type: 'function', function: { name: 'get_time', arguments: '' } },
    { index: 1, function: { arguments: '{}' } },
  ]);
  assert.equal(out.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'tool_calls');
});

test('a stream that starts without messageStart still opens with the role chunk', () => {
  const out = translate([
    ev('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu', name: 'f' } } }),
    ev('messageStop', { stopReason: 'tool_use' }),
    ev('metadata', { usage: {} }),
  ]);
  assert.deepEqual(choice(out[0]!).delta, { role: 'assistant', content: '' });
  assert.equal(out.filter((chunk) => chunk.choices[0]?.delta.role === 'assistant').length, 1);
});

test('stop reasons map to OpenAI finish reasons', () => {
  const cases: [string, string][] = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
    ['malformed_model_output', 'stop'],
  ];
  for (const [stopReason, finish] of cases) {
    const out = translate([ev('messageStart', {}), ev('messageStop', { stopReason }), ev('metadata', { usage: {} })]);
    assert.equal(choice(out[1]!).finish_reason, finish, stopReason);
  }
});

test('reasoning deltas and unknown events are skipped', () => {
  const out = translate([
    ev('messageStart', {}),
    ev('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'hmm' } } }),
    ev('someFutureEvent', { x: 1 }),
    ev('messageStop', { stopReason: 'end_turn' }),
    ev('metadata', { usage: { inputTokens: 1, outputTokens: 1 } }),
  ]);
  assert.equal(out.length, 3);
});

test('exceptions become errors with the status Bedrock gives them, secrets scrubbed', () => {
  const cases: [string, string, number][] = [
    ['throttlingException', 'upstream_client_error', 429],
    ['validationException', 'upstream_client_error', 400],
    ['modelStreamErrorException', 'upstream_error', 502],
    ['internalServerException', 'upstream_error', 502],
    ['serviceUnavailableException', 'upstream_error', 502],
  ];
  for (const [type, code, status] of cases) {
    const translator = new ConverseChunkTranslator(META, ['s3cr3t-value']);
    assert.throws(
      () => translator.translate({ kind: 'exception', type, message: 'failed for s3cr3t-value' }),
      (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, code, type);
        assert.equal(error.status, status, type);
        assert.equal(error.upstreamCode, type.charAt(0).toUpperCase() + type.slice(1));
        assert.ok(!error.message.includes('s3cr3t-value'));
        return true;
      },
    );
  }
});

test('a stream without messageStop, or without usage after it, is incomplete', () => {
  const noStop = new ConverseChunkTranslator(META);
  noStop.translate(ev('messageStart', {}));
  assert.throws(() => noStop.finish(), /before the answer was complete/);
  const noUsage = new ConverseChunkTranslator(META);
  noUsage.translate(ev('messageStop', { stopReason: 'end_turn' }));
  assert.throws(() => noUsage.finish(), /without reporting token usage/);
});

test('tool input for a tool call never started is a bad response', () => {
  const translator = new ConverseChunkTranslator(META);
  assert.throws(
    () => translator.translate(ev('contentBlockDelta', { contentBlockIndex: 3, delta: { toolUse: { input: '{}' } } })),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response',
  );
});
