import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { timeoutsSchema } from '../../config/deployment-base.js';
import { EntraTokenSource } from './entra-token.js';

/** A token endpoint that records each request and answers as told, after `delayMs`. */
interface TokenServer {
  url: string;
  requests: URLSearchParams[];
  paths: string[];
  answer: { status: number; body: unknown; delayMs: number };
  server: Server;
}

let endpoint: TokenServer;
let issued = 0;

before(async () => {
  const state = { requests: [] as URLSearchParams[], paths: [] as string[], answer: { status: 200, body: null as unknown, delayMs: 0 } };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      state.requests.push(new URLSearchParams(text));
      state.paths.push(req.url ?? '');
      const { status, body, delayMs } = endpoint.answer;
      const reply = () => {
        const json = JSON.stringify(body ?? { token_type: 'Bearer', expires_in: 3600, access_token: `token-${++issued}` });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(json);
      };
      setTimeout(reply, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = { ...state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
});
after(() => new Promise<void>((resolve) => endpoint.server.close(() => resolve())));
beforeEach(() => {
  endpoint.requests.length = 0;
  endpoint.paths.length = 0;
  endpoint.answer = { status: 200, body: null, delayMs: 0 };
});

const SECRET = 'client-secret-value-9x8y7z';
const signal = () => new AbortController().signal;

function source(clock: { now: number }, refreshBeforeS = 300, timeouts = timeoutsSchema.parse({})): EntraTokenSource {
  return new EntraTokenSource({
    settings: {
      tenant_id: 'contoso.onmicrosoft.com',
      client_id: 'app-id',
      client_secret: SECRET,
      authority_host: endpoint.url,
      scope: 'https://cognitiveservices.azure.com/.default',
      refresh_before_s: refreshBeforeS,
    },
    timeouts,
    now: () => clock.now,
  });
}

test('the client-credentials request: tenant path, form fields', async () => {
  const tokens = source({ now: 0 });
  assert.match(await tokens.token(signal()), /^token-\d+$/);
  assert.equal(endpoint.paths[0], '/contoso.onmicrosoft.com/oauth2/v2.0/token');
  const form = endpoint.requests[0]!;
  assert.equal(form.get('grant_type'), 'client_credentials');
  assert.equal(form.get('client_id'), 'app-id');
  assert.equal(form.get('client_secret'), SECRET);
  assert.equal(form.get('scope'), 'https://cognitiveservices.azure.com/.default');
  await tokens.close();
});

test('a token is kept until refresh_before_s before it expires, then replaced once', async () => {
  const clock = { now: 1_000_000 };
  const tokens = source(clock);
  const first = await tokens.token(signal());
  clock.now += 3_600_000 - 300_000 - 1;
  for (let i = 0; i < 5; i++) assert.equal(await tokens.token(signal()), first);
  assert.equal(tokens.fetches, 1);
  clock.now += 1;
  const second = await tokens.token(signal());
  assert.notEqual(second, first);
  assert.equal(await tokens.token(signal()), second);
  assert.equal(tokens.fetches, 2);
  await tokens.close();
});

test('a short-lived token is replaced halfway through its life', async () => {
  endpoint.answer.body = { token_type: 'Bearer', expires_in: '60', access_token: 'short' };
  const clock = { now: 0 };
  const tokens = source(clock);
  assert.equal(await tokens.token(signal()), 'short');
  clock.now = 29_999;
  await tokens.token(signal());
  assert.equal(tokens.fetches, 1);
  clock.now = 30_000;
  await tokens.token(signal());
  assert.equal(tokens.fetches, 2);
  await tokens.close();
});

test('concurrent requests share one fetch', async () => {
  endpoint.answer.delayMs = 50;
  const tokens = source({ now: 0 });
  const all = await Promise.all(Array.from({ length: 20 }, () => tokens.token(signal())));
  assert.equal(new Set(all).size, 1);
  assert.equal(tokens.fetches, 1);
  assert.equal(endpoint.requests.length, 1);
  await tokens.close();
});

test('a failed refresh falls back to the still-valid token; an expired one fails with upstream_error', async () => {
  const clock = { now: 0 };
  const tokens = source(clock);
  const first = await tokens.token(signal());
  endpoint.answer = {
    status: 401,
    body: { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided: ${SECRET}.\r\nTrace ID: abc\r\nCorrelation ID: def`, error_codes: [7000215] },
    delayMs: 0,
  };
  clock.now = 3_400_000;
  assert.equal(await tokens.token(signal()), first, 'the old token still serves');
  clock.now = 3_600_000;
  await assert.rejects(tokens.token(signal()), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.status, 502);
    assert.equal(error.message, "Entra ID refused the deployment's token request (HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided: [redacted].");
    return true;
  });
  endpoint.answer = { status: 200, body: null, delayMs: 0 };
  assert.notEqual(await tokens.token(signal()), first, 'the next request tries again');
  await tokens.close();
});

test('an unreachable, slow or confused token endpoint is a clear upstream_error', async () => {
  const unreachable = new EntraTokenSource({
    settings: { tenant_id: 't', client_id: 'c', client_secret: SECRET, authority_host: 'http://127.0.0.1:9', scope: 's', refresh_before_s: 300 },
    timeouts: timeoutsSchema.parse({}),
  });
  await assert.rejects(unreachable.token(signal()), (error: unknown) => {
    assert.ok(error instanceof GatewayError && error.code === 'upstream_error');
    assert.match(error.message, /^Could not get an Entra ID token: The upstream could not be reached \(ECONNREFUSED\)/);
    return true;
  });
  await unreachable.close();

  endpoint.answer.delayMs = 500;
  const slow = source({ now: 0 }, 300, timeoutsSchema.parse({ connect_ms: 100, first_byte_ms: 100 }));
  await assert.rejects(slow.token(signal()), /did not answer within 200 ms/);
  await slow.close();

  endpoint.answer = { status: 200, body: { token_type: 'Bearer' }, delayMs: 0 };
  const confused = source({ now: 0 });
  await assert.rejects(confused.token(signal()), /without an access_token and expires_in/);
  await confused.close();
});

test('a client that leaves stops waiting, and the shared fetch still serves the others', async () => {
  endpoint.answer.delayMs = 100;
  const tokens = source({ now: 0 });
  const leaving = new AbortController();
  const left = tokens.token(leaving.signal);
  const staying = tokens.token(signal());
  leaving.abort();
  await assert.rejects(left, (error: unknown) => error instanceof GatewayError && error.code === 'client_closed_request');
  assert.match(await staying, /^token-/);
  assert.equal(tokens.fetches, 1);
  await tokens.close();
});
