import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { chatAnswer } from '../emulators/openai-answers.js';
import { MID_STREAM_ERROR } from '../emulators/openai-compatible.js';
import {
  assertNoLeak,
  assertOpenAiError,
  closedPort,
  failure,
  lastBody,
  startStack,
  UPSTREAM_SECRET,
  within,
  type Stack,
} from './stack.js';

/**
 * Every way a request can fail, seen through the official SDK: the status, the SDK's error class,
 * OpenAI's error shape, and never a stack trace or the upstream key in a response or a log.
 */

const IDLE_MS = 300;
const FIRST_BYTE_MS = 300;
const TOTAL_MS = 500;

let stack: Stack;
let deadPort: number;

/** One alias per emulated fault, served by the upstream model of the same name unless given. */
function alias(name: string, url: string, options: { model?: string; timeouts?: string } = {}): string {
  return `
  - name: ${name}
    deployments:
      - provider: openai-compatible
        name: ${name}-deployment
        base_url: ${url}
        model: ${options.model ?? name}
        api_key: ${UPSTREAM_SECRET}
        timeouts: { connect_ms: 1000${options.timeouts ?? ''} }`;
}

before(async () => {
  deadPort = await closedPort();
  stack = await startStack(
    (url) => `
server:
  max_body_bytes: 4096
resilience:
  retry: { attempts: 1 }   # these tests look at single failures; retries have their own tests
models:${alias('chat', url, { model: 'emu-model' })}${alias('unreachable', `http://127.0.0.1:${deadPort}/v1`, { model: 'emu-model' })}${[
      'fail-400',
      'fail-401',
      'fail-429',
      'fail-500',
      'leak-key-400',
      'leak-key-500',
      'reset',
      'not-json',
      'reset-mid-stream',
      'error-mid-stream',
    ]
      .map((name) => alias(name, url))
      .join('')}${alias('fail-429-stream', url, { model: 'fail-429' })}${alias('hang', url, { timeouts: `, first_byte_ms: ${FIRST_BYTE_MS}` })}${alias('stall', url, {
      model: 'stall-mid-stream',
      timeouts: `, idle_ms: ${IDLE_MS}`,
    })}${alias('slow-total', url, { model: 'slow-stream', timeouts: `, total_ms: ${TOTAL_MS}` })}${alias('hang-total', url, {
      model: 'hang',
      timeouts: `, first_byte_ms: 30000, total_ms: ${TOTAL_MS}`,
    })}
`,
  );
});
after(() => stack.close());

const SUBJECT = 'Is the line clear?';
const messages = [{ role: 'user' as const, content: SUBJECT }];

/** The SDK error of a non-streamed chat call to `model`, with the raw error body checked for shape. */
async function chatFailure(model: string, headers: Record<string, string> = {}): Promise<{ error: APIError; body: ReturnType<typeof assertOpenAiError> }> {
  const error = await failure(() => stack.client.chat.completions.create({ model, messages }, { headers }));
  assert.ok(error instanceof APIError, `an APIError, got ${String(error)}`);
  const body = assertOpenAiError(await lastBody(stack.captured));
  assert.equal(error.message.includes(body.message), true);
  return { error, body };
}

/** Streams `model` until the SDK throws; returns the content that came first, the error and when each happened. */
async function streamFailure(model: string) {
  const stream = await stack.client.chat.completions.create({ model, messages, stream: true });
  let text = '';
  let lastChunkAt = performance.now();
  const error = await failure(async () => {
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      lastChunkAt = performance.now();
    }
  });
  return { text, error, lastChunkAt, failedAt: performance.now() };
}

/** The raw SSE text of the last response: its last event must be an OpenAI-shaped error, with no [DONE]. */
async function assertStreamEndsWithError(): Promise<ReturnType<typeof assertOpenAiError>> {
  const last = stack.captured.at(-1)!;
  assert.match(last.headers.get('content-type') ?? '', /^text\/event-stream/);
  const raw = await last.text;
  assertNoLeak(raw);
  const events = raw.split('\n\n').filter((event) => event.length > 0);
  assert.ok(!events.includes('data: [DONE]'), 'a failed stream does not claim to be done');
  const final = events.at(-1)!;
  assert.ok(final.startsWith('data: '), final);
  return assertOpenAiError(JSON.parse(final.slice('data: '.length)));
}

describe('errors of the request itself', () => {
  test('malformed JSON: 400 invalid_json', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      body: '{"model": "chat", "messages": [',
    });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok((response.headers.get('x-request-id') ?? '').length > 0);
    const body = assertOpenAiError(await response.json());
    assert.equal(body.type, 'invalid_request_error');
    assert.equal(body.code, 'invalid_json');
  });

  test('missing messages: 400 naming the param', async () => {
    const error = await failure(() => stack.client.chat.completions.create({ model: 'chat' } as never));
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.param, 'messages');
    assert.match(error.message, /messages/);
    assertOpenAiError(await lastBody(stack.captured));
    assert.equal(stack.emulator.requests.length, 0, 'nothing reached the upstream');
  });

  test('unknown model: 404 NotFoundError', async () => {
    const { error, body } = await chatFailure('no-such-model');
    assert.ok(error instanceof NotFoundError);
    assert.equal(body.param, 'model');
    assert.match(body.message, /no-such-model/);
  });

  test('body over server.max_body_bytes: 413', async () => {
    const error = await failure(() =>
      stack.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(8_000) }] }),
    );
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 413);
    assertOpenAiError(await lastBody(stack.captured));
  });

  test('a chunked body (no content-length) that grows over server.max_body_bytes: 413', async () => {
    const piece = new TextEncoder().encode(' '.repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(piece);
        else controller.close();
      },
    });
    const response = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(response.status, 413);
    const error = assertOpenAiError(await response.json());
    assert.equal(error.code, 'request_too_large');
  });

  test('an unknown path: 404', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/no-such-endpoint`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 404);
    assertOpenAiError(await response.json());
  });

  test('a wrong method: 405 with allow', async () => {
    const response = await fetch(`${stack.gateway.url}/v1/chat/completions`);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assertOpenAiError(await response.json());
  });
});

describe('upstream failures before the answer', () => {
  test('upstream unreachable: 502', async () => {
    const { error, body } = await chatFailure('unreachable');
    assert.ok(error instanceof InternalServerError);
    assert.equal(error.status, 502);
    assert.equal(body.code, 'upstream_unreachable');
    assert.equal(error.headers.get('x-stellwerk-deployment'), 'unreachable-deployment');
  });

  test('upstream 500: 502', async () => {
    const { error, body } = await chatFailure('fail-500');
    assert.ok(error instanceof InternalServerError);
    assert.equal(error.status, 502);
    assert.equal(body.type, 'server_error');
  });

  test('upstream 400: passed through with status, message, param and code', async () => {
    const { error, body } = await chatFailure('fail-400');
    assert.ok(error instanceof BadRequestError);
    assert.deepEqual(body, {
      message: "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
      type: 'invalid_request_error',
      param: 'max_tokens',
      code: 'integer_below_min_value',
    });
  });

  test('upstream 429: passed through with retry-after', async () => {
    const { error, body } = await chatFailure('fail-429');
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.headers.get('retry-after'), '7');
    assert.equal(error.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(body.code, 'rate_limit_exceeded');
    assert.match(body.message, /Rate limit reached/);
  });

  test("upstream 401: 502, the deployment's credential problem, not the client's", async () => {
    const { error, body } = await chatFailure('fail-401');
    assert.ok(!(error instanceof AuthenticationError), 'the client is not told its own key is wrong');
    assert.ok(error instanceof InternalServerError);
    assert.equal(error.status, 502);
    assert.equal(body.type, 'server_error');
  });

  test('an upstream error message that repeats the key is scrubbed (4xx relayed, 5xx wrapped)', async () => {
    const relayed = await chatFailure('leak-key-400');
    assert.ok(relayed.error instanceof BadRequestError);
    assert.match(relayed.body.message, /\[redacted\]/);
    const wrapped = await chatFailure('leak-key-500');
    assert.equal(wrapped.error.status, 502);
  });

  test('upstream resets the connection: 502', async () => {
    const { error, body } = await chatFailure('reset');
    assert.equal(error.status, 502);
    assert.equal(body.code, 'upstream_error');
  });

  test('upstream answers 200 with a body that is not JSON: 502', async () => {
    const { error, body } = await chatFailure('not-json');
    assert.equal(error.status, 502);
    assert.equal(body.code, 'upstream_bad_response');
  });

  test('upstream hangs: 504 after timeouts.first_byte_ms, and the upstream call is given up', async () => {
    const started = performance.now();
    const { error, body } = await chatFailure('hang', { 'x-request-id': 'e2e-hang' });
    const elapsed = performance.now() - started;
    assert.ok(error instanceof InternalServerError);
    assert.equal(error.status, 504);
    assert.equal(body.type, 'timeout_error');
    assert.ok(elapsed >= FIRST_BYTE_MS * 0.9 && elapsed < FIRST_BYTE_MS + 2_000, `answered after ${elapsed} ms`);
    const upstream = await stack.emulator.waitForRequest((request) => request.headers['x-request-id'] === 'e2e-hang');
    assert.deepEqual(await within(upstream.closed, 2_000, 'the upstream exchange to close'), { aborted: true });
  });

  test('upstream hangs past timeouts.total_ms: 504', async () => {
    const started = performance.now();
    const { error, body } = await chatFailure('hang-total');
    const elapsed = performance.now() - started;
    assert.equal(error.status, 504);
    assert.equal(body.code, 'upstream_timeout');
    assert.ok(elapsed >= TOTAL_MS * 0.9 && elapsed < TOTAL_MS + 2_000, `answered after ${elapsed} ms`);
  });

  test('a whole answer that stalls halfway: 504 after timeouts.idle_ms', async () => {
    const { error, body } = await chatFailure('stall');
    assert.equal(error.status, 504);
    assert.equal(body.code, 'upstream_timeout');
  });

  test('a whole answer cut off halfway: 502', async () => {
    const { error } = await chatFailure('reset-mid-stream');
    assert.equal(error.status, 502);
  });
});

describe('upstream failures in the middle of a stream', () => {
  test('stall: the stream ends with an error event within about timeouts.idle_ms', async () => {
    const { text, error, lastChunkAt, failedAt } = await streamFailure('stall');
    assert.ok(error instanceof APIError, `an APIError, got ${String(error)}`);
    assert.ok(chatAnswer(SUBJECT).startsWith(text) && text.length > 0, `a prefix of the answer came first: ${JSON.stringify(text)}`);
    const silence = failedAt - lastChunkAt;
    assert.ok(silence >= IDLE_MS * 0.8 && silence < IDLE_MS + 1_500, `failed after ${silence} ms of silence`);
    const body = await assertStreamEndsWithError();
    assert.equal(body.code, 'upstream_timeout');
    assert.deepEqual(error.error, body);
  });

  test('reset: the stream ends with a clean error event', async () => {
    const { text, error } = await streamFailure('reset-mid-stream');
    assert.ok(error instanceof APIError);
    assert.ok(chatAnswer(SUBJECT).startsWith(text) && text.length > 0);
    const body = await assertStreamEndsWithError();
    assert.equal(body.code, 'upstream_error');
    assert.equal(body.type, 'server_error');
  });

  test('total timeout: a stream still running after timeouts.total_ms ends with an error event', async () => {
    const started = performance.now();
    const { text, error, failedAt } = await streamFailure('slow-total');
    assert.ok(error instanceof APIError);
    assert.ok(text.startsWith(chatAnswer(SUBJECT)), 'the stream had begun');
    const elapsed = failedAt - started;
    assert.ok(elapsed >= TOTAL_MS * 0.9 && elapsed < TOTAL_MS + 2_000, `failed after ${elapsed} ms`);
    const body = await assertStreamEndsWithError();
    assert.equal(body.code, 'upstream_timeout');
    const upstream = stack.emulator.requests.at(-1)!;
    assert.deepEqual(await within(upstream.closed, 2_000, 'the upstream exchange to close'), { aborted: true });
  });

  test('an error event from the upstream mid-stream ends the stream with an error event carrying its message', async () => {
    const { text, error } = await streamFailure('error-mid-stream');
    assert.ok(error instanceof APIError);
    assert.ok(chatAnswer(SUBJECT).startsWith(text) && text.length > 0);
    const body = await assertStreamEndsWithError();
    assert.equal(body.message, MID_STREAM_ERROR.message);
    assert.equal(body.type, 'server_error');
  });

  test('a stream whose first event is not JSON fails before its first byte: a 502 answer, not a stream', async () => {
    const error = await failure(() => stack.client.chat.completions.create({ model: 'not-json', messages, stream: true }));
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 502);
    assert.equal((error.error as { code?: string }).code, 'upstream_bad_response');
  });

  test('an upstream error status before a stream starts is a normal error response', async () => {
    // Its own alias: after the 429 above, the first deployment is cooling down for the 7 s its upstream asked.
    const error = await failure(() => stack.client.chat.completions.create({ model: 'fail-429-stream', messages, stream: true }));
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.headers.get('retry-after'), '7');
    assertOpenAiError(await lastBody(stack.captured));
  });
});

describe('secrets', () => {
  test('the upstream key reached the upstream, and nothing else', async () => {
    assert.ok(stack.emulator.requests.length >= 10);
    for (const upstream of stack.emulator.requests) assert.equal(upstream.headers.authorization, `Bearer ${UPSTREAM_SECRET}`);
    assert.ok(stack.captured.length >= 20);
    for (const response of stack.captured) {
      assertNoLeak(await response.text);
      for (const [name, value] of response.headers) assertNoLeak(`${name}: ${value}`);
    }
  });

  test('the gateway logs hold neither the upstream key nor a stack trace', () => {
    const logs = stack.gateway.logs;
    assert.ok(logs.some((line) => line.msg === 'request' && line.status === 502), 'the failures were logged');
    for (const line of logs) assertNoLeak(JSON.stringify(line));
  });
});
