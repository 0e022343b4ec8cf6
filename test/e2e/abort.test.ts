import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { APIUserAbortError } from 'openai';
import { chatAnswer } from '../emulators/openai-answers.js';
import type { RecordedRequest } from '../emulators/openai-compatible.js';
import { requestLog, startStack, UPSTREAM_SECRET, within, type Stack } from './stack.js';

/**
 * A client that leaves aborts the upstream call at once (the gateway must not keep generating
 * for nobody), and the request is logged as 499.
 */

let stack: Stack;

before(async () => {
  stack = await startStack(
    (url) => `
models:
  - name: slow
    deployments:
      - provider: openai-compatible
        base_url: ${url}
        model: slow-stream
        api_key: ${UPSTREAM_SECRET}
  - name: hang
    deployments:
      - provider: openai-compatible
        base_url: ${url}
        model: hang
        api_key: ${UPSTREAM_SECRET}
`,
    { apiKey: UPSTREAM_SECRET, slowChunkMs: 20 },
  );
});
after(() => stack.close());

const SUBJECT = 'Count the sleepers, slowly.';
const messages = [{ role: 'user' as const, content: SUBJECT }];

function upstreamRequest(requestId: string): Promise<RecordedRequest> {
  return stack.emulator.waitForRequest((request) => request.headers['x-request-id'] === requestId);
}

describe('client abort', () => {
  test('aborting a stream closes the upstream connection promptly and is logged as 499', async () => {
    const requestId = 'e2e-abort-stream';
    const controller = new AbortController();
    const stream = await stack.client.chat.completions.create(
      { model: 'slow', messages, stream: true },
      { signal: controller.signal, headers: { 'x-request-id': requestId } },
    );
    let text = '';
    let chunks = 0;
    let abortedAt = 0;
    try {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (++chunks === 5) {
          abortedAt = performance.now();
          controller.abort();
        }
      }
    } catch (error) {
      assert.ok(error instanceof APIUserAbortError || (error as Error).name === 'AbortError', `an abort, got ${String(error)}`);
    }
    assert.ok(abortedAt > 0, 'the stream was aborted while running');
    assert.ok(chatAnswer(SUBJECT).startsWith(text) || text.startsWith(chatAnswer(SUBJECT)), 'the chunks so far were right');

    const upstream = await upstreamRequest(requestId);
    const end = await within(upstream.closed, 2_000, 'the upstream exchange to close');
    assert.deepEqual(end, { aborted: true });
    await within(stack.emulator.connectionClosed(upstream.connectionId), 2_000, 'the upstream connection to close');
    const delay = performance.now() - abortedAt;
    assert.ok(delay < 1_000, `the upstream connection closed ${delay} ms after the abort`);

    const log = await requestLog(stack.gateway, requestId);
    assert.equal(log.error_code, 'client_closed_request');
    assert.equal(log.status, 499);
  });

  test('aborting while the upstream has not answered yet closes the upstream call and is logged as 499', async () => {
    const requestId = 'e2e-abort-waiting';
    const controller = new AbortController();
    const pending = stack.client.chat.completions.create({ model: 'hang', messages }, { signal: controller.signal, headers: { 'x-request-id': requestId } });
    const upstream = await within(upstreamRequest(requestId), 2_000, 'the upstream request');
    controller.abort();
    await assert.rejects(pending, APIUserAbortError);
    assert.deepEqual(await within(upstream.closed, 2_000, 'the upstream exchange to close'), { aborted: true });
    const log = await requestLog(stack.gateway, requestId);
    assert.equal(log.status, 499);
    assert.equal(log.error_code, 'client_closed_request');
  });

  test('the gateway still serves after the aborts', async () => {
    const chunks: string[] = [];
    const controller = new AbortController();
    const stream = await stack.client.chat.completions.create({ model: 'slow', messages, stream: true }, { signal: controller.signal });
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.delta.content ?? '');
      if (chunks.join('').length >= chatAnswer(SUBJECT).length) controller.abort();
    }
    assert.ok(chunks.join('').startsWith(chatAnswer(SUBJECT)));
  });
});
