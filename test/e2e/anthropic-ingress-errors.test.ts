import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic, { APIError, AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages/messages';
import { MID_STREAM_ERROR } from '../emulators/openai-compatible.js';
import { assertNoLeak, failure, startStack, UPSTREAM_SECRET, type CapturedResponse, type Stack } from './stack.js';

/**
 * Every way a /v1/messages request fails, seen through Anthropic's SDK: the status, the SDK's
 * error class, Anthropic's error shape (`{"type": "error", "error": {"type", "message"}}`) in
 * answers and as the `error` event of a stream that has begun, and no upstream key anywhere.
 */

const MASTER_KEY = 'anthropic-e2e-master-8e1f';

let stack: Stack;

/** One alias per fault, each its own deployment (an upstream 429 or 500 benches that deployment for a while). */
function alias(name: string, url: string, model = name): string {
  return `
  - name: ${name}
    deployments:
      - provider: openai-compatible
        name: ${name}-deployment
        base_url: ${url}
        model: ${model}
        api_key: ${UPSTREAM_SECRET}`;
}

before(async () => {
  stack = await startStack(
    (url) => `
auth:
  master_key: ${MASTER_KEY}
models:${alias('chat', url, 'emu-model')}${alias('fail-400', url)}${alias('fail-429', url)}${alias('fail-429-streamed', url, 'fail-429')}${alias('fail-500', url)}${alias('leak-key-400', url)}${alias('error-mid-stream', url)}
  - name: sim
    deployments:
      - provider: simulator
        ttft_ms: 0
        tokens_per_second: 0
`,
  );
});
after(() => stack.close());

interface Client {
  readonly sdk: Anthropic;
  readonly captured: CapturedResponse[];
}

/** The SDK pointed at the gateway, recording every raw response. */
function anthropicClient(options: { apiKey?: string; defaultHeaders?: Record<string, string | null> } = {}): Client {
  const captured: CapturedResponse[] = [];
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    captured.push({ url: String(input instanceof Request ? input.url : input), status: response.status, headers: response.headers, text: response.clone().text().catch(() => '') });
    return response;
  };
  const sdk = new Anthropic({
    baseURL: stack.gateway.url,
    apiKey: options.apiKey ?? MASTER_KEY,
    maxRetries: 0,
    fetch: recording,
    ...(options.defaultHeaders === undefined ? {} : { defaultHeaders: options.defaultHeaders }),
  });
  return { sdk, captured };
}

function params(model: string): MessageCreateParamsNonStreaming {
  return { model, max_tokens: 100, messages: [{ role: 'user', content: 'Is the line clear?' }] };
}

/** Anthropic's error shape, exactly, with the given type; returns the message. */
async function assertAnthropicError(captured: readonly CapturedResponse[], type: string): Promise<string> {
  const text = await captured.at(-1)!.text;
  assertNoLeak(text);
  const body = JSON.parse(text) as { type: unknown; error: { type: unknown; message: unknown } };
  assert.deepEqual(Object.keys(body).sort(), ['error', 'type']);
  assert.equal(body.type, 'error');
  assert.deepEqual(Object.keys(body.error).sort(), ['message', 'type']);
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, 'string');
  return body.error.message as string;
}

describe('refused by the gateway', () => {
  test('a missing max_tokens: 400 naming it', async () => {
    const { sdk, captured } = anthropicClient();
    const { max_tokens: _omitted, ...body } = params('chat');
    const error = await failure(() => sdk.messages.create(body as MessageCreateParamsNonStreaming));
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.match(await assertAnthropicError(captured, 'invalid_request_error'), /"max_tokens"/);
    assert.equal(stack.emulator.requests.length, 0, 'nothing went upstream');
  });

  test('a malformed block: 400 naming its path', async () => {
    const { sdk, captured } = anthropicClient();
    const body = { ...params('chat'), messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }] };
    const error = await failure(() => sdk.messages.create(body as MessageCreateParamsNonStreaming));
    assert.ok(error instanceof BadRequestError, String(error));
    assert.match(await assertAnthropicError(captured, 'invalid_request_error'), /messages\[0\]\.content\[0\]\.source\.data/);
  });

  test('not JSON: 400 in Anthropic\'s shape', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': MASTER_KEY }, body: '{"model": ' });
    assert.equal(response.status, 400);
    assert.deepEqual(Object.keys((await response.json()) as object).sort(), ['error', 'type']);
  });

  test('an unknown model: 404 → NotFoundError, streamed too', async () => {
    const { sdk, captured } = anthropicClient();
    const error = await failure(() => sdk.messages.create(params('no-such-model')));
    assert.ok(error instanceof NotFoundError, String(error));
    assert.match(await assertAnthropicError(captured, 'not_found_error'), /no-such-model/);
    const streamed = await failure(() => sdk.messages.stream(params('no-such-model')).finalMessage());
    assert.ok(streamed instanceof NotFoundError, String(streamed));
  });

  test('GET on /v1/messages: 405 in Anthropic\'s shape', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/messages`, { headers: { 'x-api-key': MASTER_KEY } });
    assert.equal(response.status, 405);
    assert.equal(((await response.json()) as { type: string }).type, 'error');
  });
});

describe('the master key', () => {
  test('none, or a wrong one: 401 → AuthenticationError', async () => {
    const variants: Parameters<typeof anthropicClient>[0][] = [
      { defaultHeaders: { Authorization: null } },
      { apiKey: `${MASTER_KEY}-not` },
      { defaultHeaders: { Authorization: null, 'x-api-key': 'wrong-key-123' } },
    ];
    for (const options of variants) {
      const { sdk, captured } = anthropicClient(options);
      const error = await failure(() => sdk.messages.create(params('chat')));
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.equal(error.status, 401);
      await assertAnthropicError(captured, 'authentication_error');
    }
  });

  test('accepted as Bearer (what the SDK sends) and as x-api-key, with any anthropic-version', async () => {
    const bearer = anthropicClient();
    assert.equal((await bearer.sdk.messages.create(params('sim'))).type, 'message');
    assert.match(bearer.captured.at(-1)!.url, /\/v1\/messages$/);
    const headerKey = anthropicClient({ defaultHeaders: { Authorization: null, 'x-api-key': MASTER_KEY, 'anthropic-version': '2023-06-01' } });
    assert.equal((await headerKey.sdk.messages.create(params('sim'))).type, 'message');
    const counted = await headerKey.sdk.messages.countTokens({ model: 'sim', messages: [{ role: 'user', content: 'hello' }] });
    assert.ok(counted.input_tokens > 0);
  });
});

describe('failed upstream', () => {
  test('an upstream 400 is relayed: BadRequestError with the upstream\'s message', async () => {
    const { sdk, captured } = anthropicClient();
    const error = await failure(() => sdk.messages.create(params('fail-400')));
    assert.ok(error instanceof BadRequestError, String(error));
    assert.match(await assertAnthropicError(captured, 'invalid_request_error'), /max_tokens/);
  });

  test('an upstream 429: RateLimitError with retry-after, whole and streamed', async () => {
    const { sdk, captured } = anthropicClient();
    const error = await failure(() => sdk.messages.create(params('fail-429')));
    assert.ok(error instanceof RateLimitError, String(error));
    assert.equal(error.headers?.get('retry-after'), '7');
    await assertAnthropicError(captured, 'rate_limit_error');
    const streamed = await failure(() => sdk.messages.stream(params('fail-429-streamed')).finalMessage());
    assert.ok(streamed instanceof RateLimitError, String(streamed));
    assert.equal(streamed.headers?.get('retry-after'), '7');
  });

  test('an upstream 500: 502 api_error → InternalServerError', async () => {
    const { sdk, captured } = anthropicClient();
    const error = await failure(() => sdk.messages.create(params('fail-500')));
    assert.ok(error instanceof InternalServerError, String(error));
    assert.equal(error.status, 502);
    await assertAnthropicError(captured, 'api_error');
  });

  test('an upstream message repeating its key never shows it', async () => {
    const { sdk, captured } = anthropicClient();
    const error = await failure(() => sdk.messages.create(params('leak-key-400')));
    assert.ok(error instanceof BadRequestError, String(error));
    await assertAnthropicError(captured, 'invalid_request_error');
    assertNoLeak(error.message);
  });

  test('a failure after the first byte: the text so far, then an error event in Anthropic\'s shape', async () => {
    const { sdk, captured } = anthropicClient();
    const stream = sdk.messages.stream(params('error-mid-stream'));
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const error = await failure(() => stream.finalMessage());
    assert.ok(error instanceof APIError, String(error));
    assert.ok(text.length > 0, 'some text came first');
    const raw = await captured.at(-1)!.text;
    assertNoLeak(raw);
    const frames = raw.split('\n\n').filter((frame) => frame !== '');
    assert.match(frames[0]!, /^event: message_start\n/);
    const last = frames.at(-1)!;
    assert.match(last, /^event: error\ndata: /);
    const body = JSON.parse(last.slice(last.indexOf('data: ') + 'data: '.length)) as unknown;
    assert.deepEqual(body, { type: 'error', error: { type: 'api_error', message: MID_STREAM_ERROR.message } });
    assert.ok(!raw.includes('message_stop'), 'the message did not end normally');
  });
});
