import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upstreamStatusError } from '../http/upstream-errors.js';
import { streamErrorEvent } from './errors.js';

const SECRET = 'sk-ant-api03-secret-key-value';

function body(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011' });
}

test('error responses in Anthropic shape: 4xx keep status, message and type; 429 keeps retry-after', () => {
  const bad = upstreamStatusError(400, {}, body('invalid_request_error', 'max_tokens: Field required'), [SECRET]);
  assert.deepEqual([bad.code, bad.status, bad.message, bad.type], ['upstream_client_error', 400, 'max_tokens: Field required', 'invalid_request_error']);
  const missing = upstreamStatusError(404, {}, body('not_found_error', 'model: claude-nope'), []);
  assert.deepEqual([missing.status, missing.type], [404, 'not_found_error']);
  const large = upstreamStatusError(413, {}, body('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), []);
  assert.deepEqual([large.status, large.type], [413, 'request_too_large']);
  const limited = upstreamStatusError(429, { 'retry-after': '7', 'anthropic-ratelimit-requests-remaining': '0' }, body('rate_limit_error', 'Slow down'), []);
  assert.deepEqual([limited.status, limited.type, limited.headers?.['retry-after']], [429, 'rate_limit_error', '7']);
});

test('401/403 are the deployment key; 500 and 529 (overloaded) are the upstream failing: all 502', () => {
  for (const [status, type] of [[401, 'authentication_error'], [403, 'permission_error']] as const) {
    const error = upstreamStatusError(status, {}, body(type, `invalid x-api-key ${SECRET}`), [SECRET]);
    assert.deepEqual([error.code, error.status], ['upstream_error', 502]);
    assert.ok(!error.message.includes(SECRET));
  }
  for (const [status, type, message] of [[500, 'api_error', 'Internal server error'], [529, 'overloaded_error', 'Overloaded']] as const) {
    const error = upstreamStatusError(status, {}, body(type, message), []);
    assert.deepEqual([error.code, error.status], ['upstream_error', 502]);
    assert.match(error.message, new RegExp(`HTTP ${status}.*${message}`));
  }
});

test('an error event in a stream: its type decides the class; the key is scrubbed', () => {
  const overloaded = streamErrorEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, []);
  assert.deepEqual([overloaded.code, overloaded.status, overloaded.upstreamCode], ['upstream_error', 502, 'overloaded_error']);
  assert.match(overloaded.message, /middle of its answer \(overloaded_error\): Overloaded/);
  const apiError = streamErrorEvent({ type: 'error', error: { type: 'api_error', message: `boom ${SECRET}` } }, [SECRET]);
  assert.equal(apiError.status, 502);
  assert.ok(!apiError.message.includes(SECRET));
  const limited = streamErrorEvent({ type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } }, []);
  assert.deepEqual([limited.code, limited.status, limited.type, limited.message], ['upstream_client_error', 429, 'rate_limit_error', 'Slow down']);
  const invalid = streamErrorEvent({ type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }, []);
  assert.deepEqual([invalid.code, invalid.status], ['upstream_client_error', 400]);
  const auth = streamErrorEvent({ type: 'error', error: { type: 'authentication_error', message: 'no' } }, []);
  assert.deepEqual([auth.code, auth.status], ['upstream_error', 502]);
  const odd = streamErrorEvent({ type: 'error', error: { type: 'brand_new_error' } }, []);
  assert.deepEqual([odd.code, odd.status, odd.upstreamCode], ['upstream_error', 502, 'brand_new_error']);
  const shapeless = streamErrorEvent('nonsense', []);
  assert.deepEqual([shapeless.code, shapeless.upstreamCode], ['upstream_error', 'api_error']);
});
