import assert from 'node:assert/strict';
import { test } from 'node:test';
import { azureStatusError, filteredCategories } from './errors.js';

const KEY = 'azure-key-abcdef0123456789';

test('a content-filter 400 keeps status, code and param, and names the filtered categories', () => {
  const body = {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: {
        code: 'ResponsibleAIPolicyViolation',
        content_filter_result: {
          hate: { filtered: false, severity: 'safe' },
          jailbreak: { filtered: true, detected: true },
          violence: { filtered: true, severity: 'medium' },
        },
      },
    },
  };
  const error = azureStatusError(400, {}, JSON.stringify(body), [KEY]);
  assert.equal(error.code, 'upstream_client_error');
  assert.equal(error.status, 400);
  assert.equal(error.upstreamCode, 'content_filter');
  assert.equal(error.param, 'prompt');
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.message, `${body.error.message} (filtered: jailbreak, violence)`);
});

test('Azure 429 keeps retry-after and the rate-limit headers', () => {
  const error = azureStatusError(
    429,
    { 'retry-after': '7', 'retry-after-ms': '7000', 'x-ratelimit-remaining-tokens': '0', 'apim-request-id': 'x' },
    JSON.stringify({ error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation … Please retry after 7 seconds.' } }),
    [KEY],
  );
  assert.equal(error.status, 429);
  assert.equal(error.type, 'rate_limit_error');
  assert.equal(error.upstreamCode, '429');
  assert.deepEqual(error.headers, { 'retry-after': '7', 'retry-after-ms': '7000', 'x-ratelimit-remaining-tokens': '0' });
});

test("401, DeploymentNotFound and 5xx are the deployment's problem: 502 upstream_error", () => {
  const refused = azureStatusError(401, {}, JSON.stringify({ error: { code: '401', message: 'Access denied due to invalid subscription key.' } }), [KEY]);
  assert.equal(refused.code, 'upstream_error');
  assert.equal(refused.status, 502);
  const missing = azureStatusError(
    404,
    {},
    JSON.stringify({ error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }),
    [KEY],
  );
  assert.equal(missing.code, 'upstream_error');
  assert.match(missing.message, /does not exist \(HTTP 404 DeploymentNotFound\): The API deployment/);
  const failed = azureStatusError(500, {}, JSON.stringify({ error: { code: 'InternalServerError', message: `oops ${KEY}` } }), [KEY]);
  assert.equal(failed.status, 502);
  assert.equal(failed.message, 'The upstream failed (HTTP 500): oops [redacted]');
});

test('other 4xx pass through as the common mapping does; a 404 without DeploymentNotFound stays 404', () => {
  const bad = azureStatusError(400, {}, JSON.stringify({ error: { code: 'BadRequest', message: 'Unrecognized request argument supplied: foo' } }), [KEY]);
  assert.equal(bad.status, 400);
  assert.equal(bad.message, 'Unrecognized request argument supplied: foo');
  const notFound = azureStatusError(404, {}, JSON.stringify({ error: { code: '404', message: 'Resource not found' } }), [KEY]);
  assert.equal(notFound.status, 404);
  assert.equal(azureStatusError(400, {}, 'not json', [KEY]).message, 'not json');
});

test('filteredCategories reads only verdicts with filtered: true', () => {
  assert.deepEqual(filteredCategories(undefined), []);
  assert.deepEqual(filteredCategories({ content_filter_result: { sexual: { filtered: true }, hate: { filtered: false } } }), ['sexual']);
});
