import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { googleStatusError } from './errors.js';

const KEY = 'AIzaSyConfiguredKey0123456789abcdefghijk';

function body(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details === undefined ? {} : { details }) } });
}

describe('Google error bodies → gateway errors', () => {
  test('a 400 keeps status, message and Google\'s status name as the code', () => {
    const error = googleStatusError(400, {}, body(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'), [KEY]);
    assert.equal(error.code, 'upstream_client_error');
    assert.equal(error.status, 400);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.message, 'Request contains an invalid argument.');
    assert.equal(error.upstreamCode, 'INVALID_ARGUMENT');
    assert.equal(error.upstreamStatus, 400);
    assert.equal(error.headers, undefined);
    const notFound = googleStatusError(404, {}, body(404, 'NOT_FOUND', 'models/gemini-9 is not found for API version v1beta'), []);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.upstreamCode, 'NOT_FOUND');
  });

  test('a prompt longer than the context window is context_length_exceeded, as OpenAI clients know it', () => {
    const error = googleStatusError(400, {}, body(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'), []);
    assert.equal(error.upstreamCode, 'context_length_exceeded');
    assert.equal(error.status, 400);
  });

  test('the deployment\'s credentials failing is a 502 that says so: 401, 403, and the 400 for a bad API key', () => {
    const cases = [
      googleStatusError(401, {}, body(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), []),
      googleStatusError(403, {}, body(403, 'PERMISSION_DENIED', 'Permission denied on resource project secret-project.'), []),
      googleStatusError(400, {}, body(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]), []),
    ];
    for (const error of cases) {
      assert.equal(error.code, 'upstream_error');
      assert.equal(error.status, 502);
      assert.match(error.message, /refused the deployment's credentials/);
      assert.doesNotMatch(error.message, /secret-project/);
    }
    assert.match(cases[1]!.message, /HTTP 403, PERMISSION_DENIED/);
  });

  test('429: retry-after from the header, else from RetryInfo (rounded up), else none', () => {
    const quota = (details?: unknown[]) => body(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', details);
    const retry = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '11.2s' };
    const withHeader = googleStatusError(429, { 'retry-after': '7' }, quota([retry]), []);
    assert.equal(withHeader.status, 429);
    assert.equal(withHeader.type, 'rate_limit_error');
    assert.equal(withHeader.upstreamCode, 'RESOURCE_EXHAUSTED');
    assert.deepEqual(withHeader.headers, { 'retry-after': '7' });
    assert.deepEqual(googleStatusError(429, {}, quota([{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure' }, retry]), []).headers, { 'retry-after': '12' });
    assert.deepEqual(googleStatusError(429, {}, quota([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: { seconds: 3, nanos: 0 } }]), []).headers, { 'retry-after': '3' });
    assert.equal(googleStatusError(429, {}, quota(), []).headers, undefined);
  });

  test('5xx become 502 with Google\'s message; a 503\'s retry hint is kept', () => {
    const error = googleStatusError(503, { 'retry-after': '2' }, body(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), []);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.status, 502);
    assert.equal(error.message, 'The upstream failed (HTTP 503, UNAVAILABLE): The model is overloaded. Please try again later.');
    assert.equal(error.upstreamStatus, 503);
    assert.deepEqual(error.headers, { 'retry-after': '2' });
  });

  test('other bodies: wrapped in an array, not JSON, empty', () => {
    assert.equal(googleStatusError(400, {}, `[${body(400, 'INVALID_ARGUMENT', 'wrapped')}]`, []).message, 'wrapped');
    assert.equal(googleStatusError(400, {}, 'plain text', []).message, 'plain text');
    assert.equal(googleStatusError(400, {}, '', []).message, 'The upstream rejected the request (HTTP 400).');
    assert.equal(googleStatusError(500, {}, '<html>', []).message, 'The upstream failed (HTTP 500): <html>');
  });

  test('keys never pass: the configured one and anything shaped like a Google key', () => {
    const error = googleStatusError(400, {}, body(400, 'INVALID_ARGUMENT', `Key ${KEY} and AIzaSyAnotherKeyThatIsNotConfigured123 may not do this.`), [KEY]);
    assert.equal(error.message, 'Key [redacted] and [redacted] may not do this.');
  });
});
