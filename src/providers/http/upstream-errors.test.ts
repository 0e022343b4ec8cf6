import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrub, upstreamStatusError } from './upstream-errors.js';

test('a 4xx keeps its status, message, type, param and code; a 429 keeps retry-after', () => {
  const error = upstreamStatusError(
    429,
    { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0', 'set-cookie': ['x'] },
    JSON.stringify({ error: { message: 'Slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }),
    [],
  );
  assert.equal(error.code, 'upstream_client_error');
  assert.equal(error.status, 429);
  assert.equal(error.message, 'Slow down');
  assert.equal(error.upstreamCode, 'rate_limit_exceeded');
  assert.deepEqual(error.headers, { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' });
});

test('a 401 from the upstream is the deployment credentials problem: 502', () => {
  const error = upstreamStatusError(401, {}, JSON.stringify({ error: { message: 'Incorrect API key provided: sk-abc123456789' } }), []);
  assert.equal(error.status, 502);
  assert.ok(!error.message.includes('sk-abc'));
});

test('a 5xx becomes 502 with the upstream status named', () => {
  const error = upstreamStatusError(503, {}, 'Service Unavailable', []);
  assert.equal(error.status, 502);
  assert.match(error.message, /HTTP 503/);
});

test('other error bodies: {"message"}, {"error": "text"}, {"detail"}, plain text', () => {
  assert.equal(upstreamStatusError(400, {}, '{"message":"m1"}', []).message, 'm1');
  assert.equal(upstreamStatusError(400, {}, '{"error":"m2"}', []).message, 'm2');
  assert.equal(upstreamStatusError(422, {}, '{"detail":"m3"}', []).message, 'm3');
  assert.equal(upstreamStatusError(400, {}, 'plain words', []).message, 'plain words');
  assert.match(upstreamStatusError(400, {}, '', []).message, /HTTP 400/);
});

test('configured secrets and key-shaped strings never pass through', () => {
  assert.equal(scrub('key my-upstream-secret was wrong', ['my-upstream-secret']), 'key [redacted] was wrong');
  assert.equal(scrub('got sk-proj-ABCDEFGH12345', []), 'got [redacted]');
  const error = upstreamStatusError(400, {}, '{"error":{"message":"bad token tok-998877 here"}}', ['tok-998877']);
  assert.equal(error.message, 'bad token [redacted] here');
});
