import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthenticationError } from 'openai';
import { chatAnswer } from '../emulators/openai-answers.js';
import { assertNoLeak, assertOpenAiError, collect, failure, gatewayClient, lastBody, startStack, UPSTREAM_SECRET, type CapturedResponse, type Stack } from './stack.js';

/** With auth.master_key set, every /v1 request needs it, as a Bearer token or as x-api-key. */

const MASTER_KEY = 'e2e-master-key-5b1d9e2c';

let stack: Stack;

before(async () => {
  stack = await startStack(
    (url) => `
auth:
  master_key: ${MASTER_KEY}
models:
  - name: chat
    deployments:
      - provider: openai-compatible
        base_url: ${url}
        model: emu-model
        api_key: ${UPSTREAM_SECRET}
`,
  );
});
after(() => stack.close());

const messages = [{ role: 'user' as const, content: 'Who may pass?' }];

async function assertRefused(call: () => Promise<unknown>, captured: readonly CapturedResponse[]): Promise<void> {
  const error = await failure(call);
  assert.ok(error instanceof AuthenticationError, `an AuthenticationError, got ${String(error)}`);
  assert.equal(error.status, 401);
  const body = assertOpenAiError(await lastBody(captured));
  assert.equal(body.type, 'authentication_error');
}

describe('master key', () => {
  test('no key: 401', async () => {
    const captured: CapturedResponse[] = [];
    const anonymous = gatewayClient(stack.gateway, { defaultHeaders: { Authorization: null }, captured });
    await assertRefused(() => anonymous.chat.completions.create({ model: 'chat', messages }), captured);
    await assertRefused(() => anonymous.models.list(), captured);
    const raw = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages }),
    });
    assert.equal(raw.status, 401);
    assertOpenAiError(await raw.json());
  });

  test('a wrong key: 401, as Bearer and as x-api-key', async () => {
    const captured: CapturedResponse[] = [];
    const wrong = gatewayClient(stack.gateway, { apiKey: `${MASTER_KEY}-not`, captured });
    await assertRefused(() => wrong.chat.completions.create({ model: 'chat', messages }), captured);
    const wrongHeader = gatewayClient(stack.gateway, { defaultHeaders: { Authorization: null, 'x-api-key': 'nope-nope-nope' }, captured });
    await assertRefused(() => wrongHeader.chat.completions.create({ model: 'chat', messages, stream: true }), captured);
    assert.equal(stack.emulator.requests.length, 0, 'nothing reached the upstream');
  });

  test('the right key as Bearer works, and the upstream gets the deployment key, not the master key', async () => {
    const client = gatewayClient(stack.gateway, { apiKey: MASTER_KEY });
    const answer = await client.chat.completions.create({ model: 'chat', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer('Who may pass?'));
    const upstream = stack.emulator.requests.at(-1)!;
    assert.equal(upstream.headers.authorization, `Bearer ${UPSTREAM_SECRET}`);
    assert.equal(upstream.headers['x-api-key'], undefined);
    assert.ok(!JSON.stringify(upstream.headers).includes(MASTER_KEY));
    assert.deepEqual((await client.models.list()).data.map((model) => model.id), ['chat']);
  });

  test('the right key as x-api-key works', async () => {
    const client = gatewayClient(stack.gateway, { defaultHeaders: { Authorization: null, 'x-api-key': MASTER_KEY } });
    const chunks = await collect(await client.chat.completions.create({ model: 'chat', messages, stream: true }));
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chatAnswer('Who may pass?'));
    assert.ok(!JSON.stringify(stack.emulator.requests.at(-1)!.headers).includes(MASTER_KEY));
  });

  test('neither key appears in the logs', () => {
    assert.ok(stack.gateway.logs.some((line) => line.status === 401));
    for (const line of stack.gateway.logs) assertNoLeak(JSON.stringify(line), [UPSTREAM_SECRET, MASTER_KEY]);
  });
});
