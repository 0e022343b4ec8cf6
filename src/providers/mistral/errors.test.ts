import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mistralStatusError } from './errors.js';

const KEY = 'mistral-key-abcdef123456';

test('Mistral\'s error object: status, message, type and code pass through', () => {
  const error = mistralStatusError(
    400,
    {},
    JSON.stringify({ object: 'error', message: 'Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.', type: 'invalid_function_call', param: null, code: '3280', raw_status_code: 400 }),
    [KEY],
  );
  assert.equal(error.code, 'upstream_client_error');
  assert.equal(error.status, 400);
  assert.equal(error.type, 'invalid_function_call');
  assert.equal(error.upstreamCode, '3280');
  assert.equal(error.message, 'Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9.');
});

test('a 422 validation error lists each problem with its field; param names the first', () => {
  const detail = [
    { type: 'extra_forbidden', loc: ['body', 'messages', 0, 'user', 'name'], msg: 'Extra inputs are not permitted', input: 'anna' },
    { type: 'missing', loc: ['body', 'model'], msg: 'Field required', input: {} },
  ];
  for (const body of [
    { object: 'error', message: { detail }, type: 'invalid_request_error', param: null, code: null },
    { object: 'Error', detail, message: detail, type: 'invalid_request_error', code: 3001 },
    { object: 'error', message: JSON.stringify({ detail }), type: 'internal_error_proxy', param: null, code: '1000' },
  ]) {
    const error = mistralStatusError(422, {}, JSON.stringify(body), [KEY]);
    assert.equal(error.status, 422);
    assert.equal(error.message, 'messages[0].user.name: Extra inputs are not permitted; model: Field required');
    assert.equal(error.param, 'messages[0].user.name');
  }
});

test('429 keeps retry-after; the gateway-style body reads as the message', () => {
  const limited = mistralStatusError(429, { 'retry-after': '7' }, JSON.stringify({ object: 'error', message: 'Rate limit exceeded', type: 'rate_limited', param: null, code: '1300' }), [KEY]);
  assert.equal(limited.status, 429);
  assert.equal(limited.type, 'rate_limited');
  assert.deepEqual(limited.headers, { 'retry-after': '7' });
  const kong = mistralStatusError(429, {}, JSON.stringify({ message: 'Requests rate limit exceeded' }), [KEY]);
  assert.equal(kong.message, 'Requests rate limit exceeded');
  assert.equal(kong.type, 'rate_limit_error');
});

test('401 and 5xx become 502 upstream_error, without the key', () => {
  const refused = mistralStatusError(401, {}, JSON.stringify({ message: 'Unauthorized', request_id: 'x' }), [KEY]);
  assert.equal(refused.code, 'upstream_error');
  assert.equal(refused.status, 502);
  const failed = mistralStatusError(500, {}, JSON.stringify({ object: 'error', message: `boom for ${KEY}`, type: 'internal_server_error', param: null, code: '1000' }), [KEY]);
  assert.equal(failed.status, 502);
  assert.equal(failed.message, 'The upstream failed (HTTP 500): boom for [redacted]');
  assert.equal(mistralStatusError(404, {}, JSON.stringify({ detail: 'Not Found' }), [KEY]).message, 'Not Found');
  assert.equal(mistralStatusError(502, {}, '<html>bad gateway</html>', [KEY]).status, 502);
});
