import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import { configSchema } from '../config/schema.js';
import { backoffMs, isContextWindowError, isRetryable } from './retry-policy.js';

const retry = configSchema.parse({ models: [{ name: 'a', deployments: [{ provider: 'simulator' }] }] }).resilience.retry;

test('transport failures and the configured statuses are retried, other errors not', () => {
  assert.equal(isRetryable(new GatewayError('upstream_unreachable', { transport: 'connect' }), retry), true);
  assert.equal(isRetryable(new GatewayError('upstream_error', { transport: 'reset' }), retry), true);
  assert.equal(isRetryable(new GatewayError('upstream_timeout', { transport: 'timeout' }), retry), true);
  assert.equal(isRetryable(new GatewayError('upstream_timeout'), retry), true);
  for (const status of [408, 429, 500, 502, 503, 504]) {
    const code = status < 500 ? 'upstream_client_error' : 'upstream_error';
    assert.equal(isRetryable(new GatewayError(code, { status: 400, upstreamStatus: status }), retry), true, String(status));
  }
  for (const status of [400, 401, 404, 422, 501]) {
    assert.equal(isRetryable(new GatewayError('upstream_client_error', { upstreamStatus: status }), retry), false, String(status));
  }
  assert.equal(isRetryable(new GatewayError('client_closed_request'), retry), false);
  assert.equal(isRetryable(new GatewayError('invalid_request'), retry), false);
  assert.equal(isRetryable(new GatewayError('upstream_error', { upstreamStatus: 503 }), { ...retry, on: ['connect'] }), false);
});

test('backoff is full jitter under an exponentially growing ceiling, capped', () => {
  const config = { ...retry, initial_backoff_ms: 100, max_backoff_ms: 1000 };
  assert.equal(backoffMs(1, config, () => 0.999), 99);
  assert.equal(backoffMs(2, config, () => 0.999), 199);
  assert.equal(backoffMs(3, config, () => 0.5), 200);
  assert.equal(backoffMs(10, config, () => 0.999), 999);
  assert.equal(backoffMs(3, config, () => 0), 0);
});

test('context-window refusals are recognised by code or message', () => {
  assert.equal(isContextWindowError(new GatewayError('upstream_client_error', { upstreamCode: 'context_length_exceeded' })), true);
  const vllm = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.";
  assert.equal(isContextWindowError(new GatewayError('upstream_client_error', { status: 400, message: vllm })), true);
  assert.equal(isContextWindowError(new GatewayError('upstream_client_error', { status: 400, message: 'prompt is too long: 210000 tokens > 200000 maximum' })), true);
  assert.equal(isContextWindowError(new GatewayError('upstream_client_error', { status: 400, message: 'bad temperature' })), false);
  assert.equal(isContextWindowError(new GatewayError('upstream_error', { message: vllm })), false);
});
