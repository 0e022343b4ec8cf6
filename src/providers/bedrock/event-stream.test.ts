import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { MessageHeaders } from '@smithy/types';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk } from '../../core/types.js';
import { eventStreamFrames, FrameSplitter, type StreamFrame } from './event-stream.js';
import { converseChunks } from './stream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });

function event(type: string, payload: Record<string, unknown>): Uint8Array {
  const headers: MessageHeaders = { ':event-type': str(type), ':content-type': str('application/json'), ':message-type': str('event') };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefgh' })) });
}

function exception(type: string, message: string): Uint8Array {
  const headers: MessageHeaders = { ':exception-type': str(type), ':content-type': str('application/json'), ':message-type': str('exception') };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify({ message })) });
}

/** A whole ConverseStream answer: text with multi-byte characters, then a tool call, stop and usage. */
const ANSWER = Buffer.concat([
  event('messageStart', { role: 'assistant' }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Grüße ' } }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'aus Köln 🚂' } }),
  event('contentBlockStop', { contentBlockIndex: 0 }),
  event('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } } }),
  event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
  event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"Köln"}' } } }),
  event('contentBlockStop', { contentBlockIndex: 1 }),
  event('messageStop', { stopReason: 'tool_use' }),
  event('metadata', { usage: { inputTokens: 12, outputTokens: 9, totalTokens: 21 }, metrics: { latencyMs: 5 } }),
]);

async function* chunksOf(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

const failure = (error: unknown) => (error instanceof GatewayError ? error : new GatewayError('upstream_error', { cause: error }));

async function frames(parts: Uint8Array[]): Promise<StreamFrame[]> {
  const out: StreamFrame[] = [];
  for await (const frame of eventStreamFrames(chunksOf(parts), failure)) out.push(frame);
  return out;
}

async function chunks(parts: Uint8Array[]): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  const meta = { id: 'chatcmpl-x', model: 'm', created: 1 };
  for await (const item of converseChunks(eventStreamFrames(chunksOf(parts), failure), meta, [])) out.push(item.value);
  return out;
}

test('the splitter yields the same frames however the bytes are cut: at every boundary, and byte by byte', async () => {
  const whole = await frames([ANSWER]);
  assert.equal(whole.length, 10);
  assert.deepEqual(whole[1], { kind: 'event', type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Grüße ' }, p: 'abcdefgh' } });
  for (let cut = 1; cut < ANSWER.length; cut++) {
    assert.deepEqual(await frames([ANSWER.subarray(0, cut), ANSWER.subarray(cut)]), whole, `split at ${cut}`);
  }
  assert.deepEqual(await frames([...ANSWER].map((byte) => Uint8Array.of(byte))), whole, 'one byte at a time');
});

test('the chat chunks are identical at every byte boundary, and in three uneven pieces', async () => {
  const whole = await chunks([ANSWER]);
  for (let cut = 1; cut < ANSWER.length; cut++) {
    assert.deepEqual(await chunks([ANSWER.subarray(0, cut), ANSWER.subarray(cut)]), whole, `split at ${cut}`);
  }
  for (let a = 1; a < ANSWER.length; a += 37) {
    const b = Math.min(ANSWER.length - 1, a + 11);
    assert.deepEqual(await chunks([ANSWER.subarray(0, a), ANSWER.subarray(a, b), ANSWER.subarray(b)]), whole, `cuts at ${a}, ${b}`);
  }
  assert.equal(whole.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), 'Grüße aus Köln 🚂');
});

test('a frame copied out of several chunks does not disturb the ones after it', () => {
  const splitter = new FrameSplitter();
  const first = event('messageStart', { role: 'assistant' });
  const second = event('messageStop', { stopReason: 'end_turn' });
  const both = Buffer.concat([first, second]);
  assert.deepEqual(splitter.push(both.subarray(0, 3)), []);
  const out = splitter.push(both.subarray(3, first.length + 5));
  assert.equal(out.length, 1);
  assert.deepEqual(Buffer.from(out[0]!), Buffer.from(first));
  assert.equal(splitter.pendingBytes, 5);
  assert.deepEqual(Buffer.from(splitter.push(both.subarray(first.length + 5))[0]!), Buffer.from(second));
  assert.equal(splitter.pendingBytes, 0);
});

test('a corrupted frame (CRC mismatch) is a bad response', async () => {
  const corrupt = Buffer.from(ANSWER);
  corrupt[40] = corrupt[40]! ^ 0xff;
  await assert.rejects(frames([corrupt]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});

test('an impossible frame length is a bad response, before waiting for 4 GB', async () => {
  await assert.rejects(frames([Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0)]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
  await assert.rejects(frames([Uint8Array.of(0, 0, 0, 3)]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});

test('a body that ends inside a frame was cut off', async () => {
  await assert.rejects(frames([ANSWER.subarray(0, ANSWER.length - 3)]), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_error');
    assert.match(error.message, /middle of an event/);
    return true;
  });
});

test('exception frames and service error frames decode with their type and message', async () => {
  const errorFrame = codec.encode({
    headers: { ':message-type': str('error'), ':error-code': str('InternalFailure'), ':error-message': str('It broke') },
    body: new Uint8Array(0),
  });
  assert.deepEqual(await frames([exception('throttlingException', 'Slow down'), errorFrame]), [
    { kind: 'exception', type: 'throttlingException', message: 'Slow down' },
    { kind: 'exception', type: 'InternalFailure', message: 'It broke' },
  ]);
});

test('a payload that is not JSON is a bad response', async () => {
  const headers: MessageHeaders = { ':event-type': str('messageStart'), ':content-type': str('application/json'), ':message-type': str('event') };
  const frame = codec.encode({ headers, body: fromUtf8('{not json') });
  await assert.rejects(frames([frame]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});

test('reading failures go through the failure mapper; the body is destroyed when the consumer stops', async () => {
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield ANSWER.subarray(0, 10);
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
  await assert.rejects(
    (async () => {
      for await (const _ of eventStreamFrames(broken(), () => new GatewayError('upstream_error', { message: 'mapped' }))) void _;
    })(),
    /mapped/,
  );
  let destroyed = false;
  const body = Object.assign(chunksOf([ANSWER]), { destroy: () => void (destroyed = true) });
  for await (const _ of eventStreamFrames(body, failure)) break;
  assert.ok(destroyed);
});
