import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startGateway } from '../../test/helpers/gateway.js';

const CONFIG = `
server: { max_body_bytes: 2048 }
models:
  - name: demo
    deployments: [{ provider: simulator, name: sim, ttft_ms: 0, tokens_per_second: 0, output_tokens: 5 }]
  - name: down
    deployments: [{ provider: openai, name: openai-without-key, model: gpt-4o-mini }]
`;

const running = await startGateway(CONFIG, { OPENAI_API_KEY: undefined });
after(() => running.close());

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(running.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return body.error;
}

const hi = { model: 'demo', messages: [{ role: 'user', content: 'hi' }] };

test('a client x-request-id is echoed; a malformed one is replaced', async () => {
  const given = await post('/v1/chat/completions', hi, { 'x-request-id': 'trace-123' });
  assert.equal(given.headers.get('x-request-id'), 'trace-123');
  const bad = await post('/v1/chat/completions', hi, { 'x-request-id': 'has spaces and ${}' });
  assert.match(bad.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
});

test('unknown paths are 404, wrong methods 405 with Allow, both in OpenAI shape', async () => {
  const missing = await fetch(`${running.url}/v1/nothing`);
  assert.equal(missing.status, 404);
  assert.equal((await errorOf(missing)).code, 'route_not_found');
  const wrong = await fetch(`${running.url}/v1/chat/completions`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  assert.equal((await errorOf(wrong)).code, 'method_not_allowed');
});

test('field errors name the field', async () => {
  const cases: [unknown, string | null][] = [
    [[1, 2], null],
    [{ messages: hi.messages }, 'model'],
    [{ model: 7, messages: hi.messages }, 'model'],
    [{ model: 'demo' }, 'messages'],
    [{ model: 'demo', messages: 'hi' }, 'messages'],
    [{ model: 'demo', messages: [{ content: 'x' }] }, 'messages[0].role'],
    [{ model: 'demo', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [{ ...hi, stream: 'yes' }, 'stream'],
    [{ ...hi, stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
  ];
  for (const [body, param] of cases) {
    const response = await post('/v1/chat/completions', body);
    assert.equal(response.status, 400, JSON.stringify(body));
    const error = await errorOf(response);
    assert.equal(error.param, param, JSON.stringify(body));
    assert.equal(error.type, 'invalid_request_error');
  }
  const embeddings = await post('/v1/embeddings', { model: 'demo' });
  assert.equal((await errorOf(embeddings)).param, 'input');
});

test('an empty or malformed body is invalid_json', async () => {
  assert.equal((await errorOf(await post('/v1/chat/completions', ''))).code, 'invalid_json');
  assert.equal((await errorOf(await post('/v1/chat/completions', '{"model":'))).code, 'invalid_json');
});

test('bodies over the limit get 413, declared or chunked', async () => {
  const big = JSON.stringify({ ...hi, padding: 'x'.repeat(4096) });
  const declared = await post('/v1/chat/completions', big);
  assert.equal(declared.status, 413);
  assert.equal((await errorOf(declared)).code, 'request_too_large');
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(`${running.url}/v1/chat/completions`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    for (let i = 0; i < 8; i++) req.write('x'.repeat(1024));
    req.end();
  });
  assert.equal(chunked, 413);
});

test('an alias without a usable deployment is 503 saying why', async () => {
  const response = await post('/v1/chat/completions', { ...hi, model: 'down' });
  assert.equal(response.status, 503);
  const error = await errorOf(response);
  assert.equal(error.code, 'no_healthy_deployment');
  assert.match(error.message, /openai-without-key: no API key/);
});

test('GET /v1/models lists the aliases; /v1/models/{id} retrieves one', async () => {
  const list = (await (await fetch(`${running.url}/v1/models`)).json()) as { object: string; data: { id: string; object: string }[] };
  assert.equal(list.object, 'list');
  assert.deepEqual(list.data.map((model) => [model.id, model.object]), [['demo', 'model'], ['down', 'model']]);
  assert.equal(((await (await fetch(`${running.url}/v1/models/demo`)).json()) as { id: string }).id, 'demo');
  assert.equal((await fetch(`${running.url}/v1/models/nope`)).status, 404);
  assert.equal((await fetch(`${running.url}/v1/models/%E0%A4%A`)).status, 404);
});

test('/metrics counts requests by endpoint, alias, deployment and status, with latency and tokens', async () => {
  await post('/v1/chat/completions', hi);
  const stream = await post('/v1/chat/completions', { ...hi, stream: true });
  await stream.text();
  await post('/v1/chat/completions', { ...hi, model: 'nope' });
  const text = await (await fetch(`${running.url}/metrics`)).text();
  assert.match(text, /stellwerk_requests_total\{endpoint="chat",alias="demo",deployment="sim",status="200"\} [1-9]/);
  assert.match(text, /stellwerk_requests_total\{endpoint="chat",alias="",deployment="",status="404"\} [1-9]/);
  assert.match(text, /stellwerk_request_duration_seconds_count\{endpoint="chat",alias="demo",deployment="sim"\} [1-9]/);
  assert.match(text, /stellwerk_time_to_first_token_seconds_count\{alias="demo",deployment="sim"\} [1-9]/);
  assert.match(text, /stellwerk_tokens_total\{alias="demo",deployment="sim",kind="completion"\} [1-9]/);
  assert.match(text, /stellwerk_in_flight_requests\{endpoint="chat"\} 0/);
  assert.match(text, /stellwerk_upstream_errors_total/);
});

test('each request writes one log line with its facts and without its content', async () => {
  const response = await post('/v1/chat/completions', { ...hi, messages: [{ role: 'user', content: 'very private words' }] }, { 'x-request-id': 'log-line-1' });
  await response.text();
  const line = running.logs.find((entry) => entry.request_id === 'log-line-1');
  assert.ok(line);
  assert.equal(line.alias, 'demo');
  assert.equal(line.deployment, 'sim');
  assert.equal(line.status, 200);
  assert.equal(typeof line.latency_ms, 'number');
  assert.equal(line.completion_tokens, 5);
  assert.ok(!JSON.stringify(running.logs).includes('very private words'));
});

test("a refused request's log line names the error's code and message", async () => {
  const response = await post('/v1/chat/completions', { ...hi, model: 'no-such-model' }, { 'x-request-id': 'log-line-2' });
  assert.equal(response.status, 404);
  await response.text();
  const line = running.logs.find((entry) => entry.request_id === 'log-line-2');
  assert.ok(line);
  assert.equal(line.status, 404);
  assert.equal(line.msg, 'request');
  assert.equal(line.error_code, 'model_not_found');
  assert.match(String(line.error_message), /no-such-model/);
  assert.equal(line.alias, undefined);
});

test('/healthz and /readyz answer', async () => {
  assert.deepEqual(await (await fetch(`${running.url}/healthz`)).json(), { status: 'ok' });
  assert.deepEqual(await (await fetch(`${running.url}/readyz`)).json(), { status: 'ok' });
});
