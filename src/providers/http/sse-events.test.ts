import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import { sseJsonEvents } from './testing.js';

const options = {
  failure: (error: unknown) => (error instanceof GatewayError ? error : new GatewayError('upstream_error')),
  isFinal: (value: unknown) => (value as { done?: boolean }).done === true,
  secrets: ['upstream-secret-1'],
};

async function collect(chunks: (string | Uint8Array)[], with_ = options) {
  async function* body() {
    for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
  const out: { value: unknown; raw: string | null }[] = [];
  for await (const event of sseJsonEvents(body(), with_)) out.push(event);
  return out;
}

const STREAM = 'data: {"n":1,"t":"grüß"}\n\n: a comment\n\ndata: {"n":2,"t":"🚂"}\r\n\r\ndata: {"n":3,"done":true}\n\ndata: [DONE]\n\n';

test('events come out whole, with their raw text, however the bytes are split', async () => {
  const bytes = Buffer.from(STREAM);
  const whole = await collect([bytes]);
  assert.deepEqual(whole.map((event) => event.value), [{ n: 1, t: 'grüß' }, { n: 2, t: '🚂' }, { n: 3, done: true }]);
  assert.equal(whole[0]!.raw, '{"n":1,"t":"grüß"}');
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(await collect([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `split at ${cut}`);
  }
  assert.deepEqual(await collect([...bytes].map((byte) => Uint8Array.of(byte))), whole, 'one byte at a time');
});

test('events after [DONE] are not delivered', async () => {
  const events = await collect(['data: {"done":true}\n\ndata: [DONE]\n\ndata: {"late":1}\n\n']);
  assert.equal(events.length, 1);
});

test('an error event becomes an upstream error with its message', async () => {
  await assert.rejects(collect(['data: {"n":1}\n\ndata: {"error":{"message":"overloaded"}}\n\n']), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.message, 'overloaded');
    return true;
  });
});

test('an error event keeps the upstream type and code, without secrets', async () => {
  const event = { error: { message: 'key upstream-secret-1 expired', type: 'server_error', code: 'overloaded' } };
  await assert.rejects(collect([`data: ${JSON.stringify(event)}\n\n`]), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.message, 'key [redacted] expired');
    assert.equal(error.type, 'server_error');
    assert.equal(error.upstreamCode, 'overloaded');
    return true;
  });
});

test('a stream cut off before its end is an error', async () => {
  await assert.rejects(collect(['data: {"n":1}\n\n']), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error');
});

test('a stream that ends after its final event without [DONE] is complete', async () => {
  assert.equal((await collect(['data: {"done":true}\n\n'])).length, 1);
});

test('an event that is not JSON is a bad response', async () => {
  await assert.rejects(collect(['data: {oops\n\n']), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
});

const picky = { ...options, mayBeFinal: (raw: string) => raw.includes('"done"') };

test('with mayBeFinal, an event is parsed when its value is first read; the first one and error events at once', async () => {
  // The middle event is not JSON: nobody reads it, so it passes as its raw text.
  const events = await collect(['data: {"n":1}\n\ndata: {not json\n\ndata: {"n":3,"done":true}\n\ndata: [DONE]\n\n'], picky);
  assert.deepEqual(
    events.map((event) => event.raw),
    ['{"n":1}', '{not json', '{"n":3,"done":true}'],
  );
  assert.throws(() => events[1]!.value, (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
  assert.deepEqual(events[2]!.value, { n: 3, done: true });
  await assert.rejects(collect(['data: {"n":1}\n\ndata: {"n":2,"error":"gone"}\n\n'], picky), (error: unknown) => error instanceof GatewayError && error.message === 'gone');
});

test('with mayBeFinal, an end without [DONE] is complete only if a picked event is final', async () => {
  async function run(text: string) {
    async function* body() {
      yield Buffer.from(text);
    }
    const out: unknown[] = [];
    for await (const event of sseJsonEvents(body(), picky)) out.push(event.raw);
    return out;
  }
  assert.equal((await run('data: {"n":1}\n\ndata: {"done":true}\n\ndata: {"n":3}\n\n')).length, 3);
  await assert.rejects(run('data: {"n":1}\n\ndata: {"done":false}\n\n'), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error');
  await assert.rejects(run('data: {"n":1}\n\ndata: {"n":2}\n\n'), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error');
  // Many picked events: looked at in batches as they come, with the same outcome.
  const many = (final: number) => Array.from({ length: 40 }, (_, i) => `data: {"done":${i === final}}\n\n`).join('');
  assert.equal((await run(many(3))).length, 40);
  assert.equal((await run(many(39))).length, 40);
  await assert.rejects(run(many(-1)), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error');
});
