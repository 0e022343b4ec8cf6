import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, GatewayError, type ErrorCode } from '../../core/errors.js';
import { anthropicErrorBody, anthropicErrorType } from './errors.js';

test('every gateway error has an Anthropic error type by its status', () => {
  const expected: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    408: 'invalid_request_error',
    409: 'invalid_request_error',
    422: 'invalid_request_error',
    429: 'rate_limit_error',
    405: 'invalid_request_error',
    413: 'request_too_large',
    499: 'invalid_request_error',
    500: 'api_error',
    502: 'api_error',
    503: 'overloaded_error',
    504: 'timeout_error',
  };
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const status = ERROR_CODES[code].status;
    assert.equal(anthropicErrorType(status), expected[status], `${code} (${status})`);
  }
  // Statuses only relayed from upstreams.
  for (const status of Object.keys(expected).map(Number)) assert.equal(anthropicErrorType(status), expected[status], String(status));
  assert.equal(anthropicErrorType(529), 'overloaded_error');
});

test('the body is Anthropic\'s error shape, exactly', () => {
  const error = new GatewayError('upstream_client_error', { status: 429, message: 'Slow down.', type: 'requests', upstreamCode: 'rate_limit_exceeded' });
  assert.deepEqual(JSON.parse(anthropicErrorBody(error)), { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down.' } });
});
