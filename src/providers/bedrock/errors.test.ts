import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bedrockStatusError, errorTypeName } from './errors.js';

const CORAL = ':http://internal.amazon.com/coral/com.amazon.bedrock/';
const body = (message: string) => JSON.stringify({ message });
const typed = (type: string, extra: Record<string, string> = {}) => ({ 'x-amzn-errortype': `${type}${CORAL}`, ...extra });

test('the error name comes from x-amzn-errortype, else from the body __type', () => {
  assert.equal(errorTypeName(typed('ValidationException'), null), 'ValidationException');
  assert.equal(errorTypeName({}, { __type: 'com.amazon.coral.service#ThrottlingException' }), 'ThrottlingException');
  assert.equal(errorTypeName({}, { message: 'x' }), null);
});

test('a 400 keeps its status and message, with the AWS error name as code', () => {
  const error = bedrockStatusError(400, typed('ValidationException'), body('Input is too long for requested model.'), []);
  assert.equal(error.code, 'upstream_client_error');
  assert.equal(error.status, 400);
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.message, 'Input is too long for requested model.');
  assert.equal(error.upstreamCode, 'ValidationException');
  assert.equal(error.upstreamStatus, 400);
});

test('a 429 keeps retry-after and is a rate-limit error', () => {
  const error = bedrockStatusError(429, typed('ThrottlingException', { 'retry-after': '7' }), body('Too many requests, please wait before trying again.'), []);
  assert.equal(error.status, 429);
  assert.equal(error.type, 'rate_limit_error');
  assert.equal(error.upstreamCode, 'ThrottlingException');
  assert.deepEqual(error.headers, { 'retry-after': '7' });
});

test('401/403 are the deployment credentials problem: 502, naming the AWS error but not quoting it', () => {
  const signatureMessage = 'The request signature we calculated does not match ... x-amz-security-token:FwoGZXIvYXdzEJr...';
  for (const [status, type] of [[403, 'InvalidSignatureException'], [403, 'AccessDeniedException'], [401, 'UnrecognizedClientException']] as const) {
    const error = bedrockStatusError(status, typed(type), body(signatureMessage), []);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.status, 502);
    assert.match(error.message, new RegExp(`HTTP ${status} ${type}`));
    assert.ok(!error.message.includes('FwoGZXIv'));
  }
});

test('408 is a timeout; 424 and 5xx are the upstream failing (502) with the message', () => {
  const timeout = bedrockStatusError(408, typed('ModelTimeoutException'), body('Model has timed out.'), []);
  assert.equal(timeout.code, 'upstream_timeout');
  assert.equal(timeout.status, 504);
  for (const [status, type] of [[424, 'ModelErrorException'], [500, 'InternalServerException'], [503, 'ServiceUnavailableException']] as const) {
    const error = bedrockStatusError(status, typed(type), body('It broke.'), []);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.status, 502);
    assert.equal(error.message, `The upstream failed (HTTP ${status} ${type}): It broke.`);
    assert.equal(error.upstreamStatus, status);
  }
});

test('secrets are scrubbed; bodies that are not JSON or empty still give a message', () => {
  const leaked = bedrockStatusError(400, typed('ValidationException'), body('key wJalrXUtnFEMI/K7MDENG may not'), ['wJalrXUtnFEMI/K7MDENG']);
  assert.equal(leaked.message, 'key [redacted] may not');
  assert.equal(bedrockStatusError(400, {}, 'Bad Request', []).message, 'Bad Request');
  assert.match(bedrockStatusError(404, {}, '', []).message, /HTTP 404/);
  assert.equal(bedrockStatusError(400, {}, JSON.stringify({ Message: 'capitalised' }), []).message, 'capitalised');
});
