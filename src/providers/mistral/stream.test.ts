import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk } from '../../core/types.js';
import { sseJsonEvents } from '../http/testing.js';
import { chatChunks } from './stream.js';

const base = { id: 'cmpl-7', object: 'chat.completion.chunk', created: 1_720_000_000, model: 'mistral-small-2506' };
const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };

/** Mistral's stream as it sends it: role chunk, content, each tool call whole, finish with usage. */
const MISTRAL_STREAM = [
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  { ...base, choices: [{ index: 0, delta: { content: 'Grüße ' }, finish_reason: null }] },
  { ...base, choices: [{ index: 0, delta: { content: 'aus Köln 🚂' }, finish_reason: null }] },
  {
    ...base,
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            { id: 'D681PevKs', function: { name: 'get_weather', arguments: '{"city": "Köln"}' }, index: 0 },
            { id: 'xY12abC9z', function: { name: 'get_time', arguments: { zone: 'CET' } }, index: 0 },
          ],
        },
        finish_reason: null,
      },
    ],
  },
  { ...base, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'tool_calls' }], usage },
];
const BYTES = Buffer.from(`${MISTRAL_STREAM.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`);

const head = { id: 'cmpl-7', object: 'chat.completion.chunk', created: 1_720_000_000, model: 'mistral-small-2506' };
const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({ ...head, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
const EXPECTED = [
  choice({ role: 'assistant', content: '' }),
  choice({ content: 'Grüße ' }),
  choice({ content: 'aus Köln 🚂' }),
  choice({ tool_calls: [{ index: 0, id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  choice({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Köln"}' } }] }),
  choice({ tool_calls: [{ index: 1, id: 'xY12abC9z', type: 'function', function: { name: 'get_time', arguments: '' } }] }),
  choice({ tool_calls: [{ index: 1, function: { arguments: '{"zone":"CET"}' } }] }),
  choice({}, 'tool_calls'),
  { ...head, choices: [], usage },
];

async function translate(pieces: readonly Buffer[]): Promise<ChatChunk[]> {
  async function* body() {
    for (const piece of pieces) yield piece;
  }
  const events = sseJsonEvents<unknown>(body(), { failure: (error) => error as GatewayError, isFinal: () => false, secrets: [] });
  const out: ChatChunk[] = [];
  for await (const event of chatChunks(events, 1, ['secret-key-123'])) out.push(event.value);
  return out;
}

function bytesOf(events: readonly unknown[]): Buffer {
  return Buffer.from(`${events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`);
}

test('a Mistral stream becomes OpenAI chunks: role, content, tool calls started then argued, finish, usage last', async () => {
  assert.deepEqual(await translate([BYTES]), EXPECTED);
});

test('split at every byte boundary, the translation is the same', async () => {
  const whole = JSON.stringify(await translate([BYTES]));
  for (let cut = 1; cut < BYTES.length; cut++) {
    assert.equal(JSON.stringify(await translate([BYTES.subarray(0, cut), BYTES.subarray(cut)])), whole, `split at byte ${cut}`);
  }
  assert.equal(JSON.stringify(await translate([...BYTES].map((byte) => Buffer.from([byte])))), whole);
});

test('n = 2: each choice gets its role first, its own tool indexes and finish; usage once, at the end', async () => {
  const chunks = await translate([
    bytesOf([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'A' }, finish_reason: null }] },
      { ...base, choices: [{ index: 1, delta: { role: 'assistant', content: 'B' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'stop' }] },
      { ...base, choices: [{ index: 1, delta: { content: '' }, finish_reason: 'model_length' }], usage },
    ]),
  ]);
  const summary = chunks.map((chunk) => (chunk.choices[0] ? `${chunk.choices[0].index}:${JSON.stringify(chunk.choices[0].delta)}:${chunk.choices[0].finish_reason}` : 'usage'));
  assert.deepEqual(summary, [
    '0:{"role":"assistant","content":""}:null',
    '0:{"content":"A"}:null',
    '1:{"role":"assistant","content":""}:null',
    '1:{"content":"B"}:null',
    '0:{}:stop',
    '1:{}:length',
    'usage',
  ]);
});

test('thinking chunks become reasoning_content deltas', async () => {
  const chunks = await translate([
    bytesOf([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm' }] }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: [{ type: 'text', text: 'Ja' }] }, finish_reason: 'stop' }], usage },
    ]),
  ]);
  assert.deepEqual(
    chunks.map((chunk) => chunk.choices[0]?.delta),
    [{ role: 'assistant', content: '' }, { reasoning_content: 'Hmm' }, { content: 'Ja' }, {}, undefined],
  );
});

test('finish_reason "error" and an error object in the stream end it with an upstream error, secrets scrubbed', async () => {
  await assert.rejects(
    translate([bytesOf([{ ...base, choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'error' }] }])]),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error' && /finish_reason "error"/.test(error.message),
  );
  await assert.rejects(
    translate([bytesOf([MISTRAL_STREAM[0], { object: 'error', message: 'Overloaded (key secret-key-123)', type: 'internal_server_error', param: null, code: '1000' }])]),
    (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'upstream_error');
      assert.equal(error.message, 'Overloaded (key [redacted])');
      assert.equal(error.upstreamCode, '1000');
      return true;
    },
  );
  await assert.rejects(translate([bytesOf([{ hello: 'world' }])]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});
