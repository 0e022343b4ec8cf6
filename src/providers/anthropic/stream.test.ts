import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk } from '../../core/types.js';
import { anthropicEvents, chatChunks, ChunkTranslator } from './stream.js';

/** A stream as Anthropic sends it (named events), with thinking, text with multi-byte characters and a tool call. */
const EVENTS: Record<string, unknown>[] = [
  {
    type: 'message_start',
    message: {
      id: 'msg_s1', type: 'message', role: 'assistant', model: 'claude-test', content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: 12, cache_read_input_tokens: 30, cache_creation_input_tokens: 0, output_tokens: 1 },
    },
  },
  { type: 'ping' },
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm…' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'c2ln' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Grüße ' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'aus Köln 🚂' } },
  { type: 'content_block_stop', index: 1 },
  { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
  { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } },
  { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Kö' } },
  { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: 'ln"}' } },
  { type: 'content_block_stop', index: 2 },
  { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} } },
  { type: 'content_block_stop', index: 3 },
  { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } },
  { type: 'message_stop' },
];

function sse(events: readonly Record<string, unknown>[]): string {
  return events.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`).join('');
}

const CREATED = 1_700_000_000;
const base = { id: 'msg_s1', object: 'chat.completion.chunk', created: CREATED, model: 'claude-test' } as const;
const delta = (value: ChatChunk['choices'][number]['delta'], finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta: value, finish_reason: finish }] });

const EXPECTED = [
  delta({ role: 'assistant', content: '' }),
  delta({ content: 'Grüße ' }),
  delta({ content: 'aus Köln 🚂' }),
  delta({ tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Kö' } }] }),
  delta({ tool_calls: [{ index: 0, function: { arguments: 'ln"}' } }] }),
  delta({ tool_calls: [{ index: 1, id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
  // A tool without parameters streams no input; OpenAI clients parse the arguments, so they get "{}".
  delta({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
  delta({}, 'tool_calls'),
  { ...base, choices: [], usage: { prompt_tokens: 42, completion_tokens: 42, total_tokens: 84, prompt_tokens_details: { cached_tokens: 30 } } },
];

async function* pieces(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

const call = { failure: (error: unknown) => (error instanceof GatewayError ? error : new GatewayError('upstream_error', { cause: error })), secrets: ['sk-ant-secret-123'] };

async function translate(parts: readonly Uint8Array[]): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of chatChunks(anthropicEvents(pieces(parts), call), CREATED)) {
    assert.equal(chunk.raw, null);
    out.push(chunk.value);
  }
  return out;
}

test('a whole stream becomes OpenAI chunks: role, text, tool calls, finish, usage', async () => {
  assert.deepEqual(await translate([Buffer.from(sse(EVENTS))]), EXPECTED);
});

test('split at every byte boundary, or fed byte by byte, the stream gives the same chunks', async () => {
  const bytes = Buffer.from(sse(EVENTS), 'utf8');
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(await translate([bytes.subarray(0, at), bytes.subarray(at)]), EXPECTED, `split at byte ${at}`);
  }
  const single = [...bytes].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(await translate(single), EXPECTED);
});

test('CRLF line endings and data-only events are read the same', async () => {
  const text = EVENTS.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join('');
  assert.deepEqual(await translate([Buffer.from(text)]), EXPECTED);
});

test('an error event mid-stream is thrown after the chunks before it, scrubbed', async () => {
  const events = [...EVENTS.slice(0, 8), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded for sk-ant-secret-123' } }];
  const seen: ChatChunk[] = [];
  await assert.rejects(
    async () => {
      for await (const chunk of chatChunks(anthropicEvents(pieces([Buffer.from(sse(events))]), call), CREATED)) seen.push(chunk.value);
    },
    (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'upstream_error');
      assert.equal(error.status, 502);
      assert.equal(error.upstreamCode, 'overloaded_error');
      assert.match(error.message, /Overloaded for \[redacted\]/);
      return true;
    },
  );
  assert.deepEqual(seen, EXPECTED.slice(0, 2));
});

test('an error right after message_start comes before any chunk, so the gateway can still retry', async () => {
  const events = [EVENTS[0]!, EVENTS[1]!, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }];
  const iterator = chatChunks(anthropicEvents(pieces([Buffer.from(sse(events))]), call), CREATED)[Symbol.asyncIterator]();
  await assert.rejects(iterator.next(), (error: unknown) => error instanceof GatewayError && error.upstreamCode === 'overloaded_error');
});

test('an answer without content still starts with the role, then finishes', () => {
  const translator = new ChunkTranslator(CREATED);
  assert.deepEqual(translator.accept(EVENTS[0] as never), []);
  translator.accept({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } });
  const chunks = translator.accept({ type: 'message_stop' });
  assert.deepEqual(chunks.map((chunk) => [chunk.choices[0]?.delta, chunk.choices[0]?.finish_reason ?? null]), [
    [{ role: 'assistant', content: '' }, null],
    [{}, 'stop'],
    [undefined, null],
  ]);
});

test('a stream cut off before message_stop, or with an event that is not JSON, fails', async () => {
  await assert.rejects(translate([Buffer.from(sse(EVENTS.slice(0, -1)))]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error' && /ended its stream/.test(error.message));
  await assert.rejects(translate([Buffer.from('event: message_start\ndata: {nope\n\n')]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
  await assert.rejects(translate([Buffer.from('data: {"no":"type"}\n\n')]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});

test('a read failure goes through the failure mapper; the body is destroyed', async () => {
  let destroyed = false;
  const body = {
    async *[Symbol.asyncIterator]() {
      yield Buffer.from(sse(EVENTS.slice(0, 2)));
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    },
    destroy() {
      destroyed = true;
    },
  };
  const mapped = new GatewayError('upstream_error', { message: 'mapped' });
  await assert.rejects(
    async () => {
      for await (const _ of anthropicEvents(body, { failure: () => mapped, secrets: [] })) void _;
    },
    (error: unknown) => error === mapped,
  );
  assert.ok(destroyed);
});

test('unknown events and blocks are passed over; message_delta usage counts win; stop reasons map', () => {
  const translator = new ChunkTranslator(CREATED);
  translator.accept(EVENTS[0] as never);
  translator.accept({ type: 'content_block_start', index: 9, content_block: { type: 'text', text: 'x' } });
  assert.deepEqual(translator.accept({ type: 'content_block_start', index: 0, content_block: { type: 'server_tool_use', id: 's', name: 'web_search', input: {} } }), []);
  assert.deepEqual(translator.accept({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"q":1}' } }), []);
  assert.deepEqual(translator.accept({ type: 'some_future_event' } as never), []);
  assert.deepEqual(translator.accept({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { input_tokens: 20, output_tokens: 5 } }), []);
  assert.equal(translator.complete, false);
  const [finish, usage] = translator.accept({ type: 'message_stop' });
  assert.equal(finish!.choices[0]!.finish_reason, 'length');
  assert.deepEqual(usage!.usage, { prompt_tokens: 50, completion_tokens: 5, total_tokens: 55, prompt_tokens_details: { cached_tokens: 30 } });
  assert.equal(translator.complete, true);
});
