import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { requestRows } from '../helpers/request-rows.js';
import type { SqlGovernanceStore } from '../../src/store/sql-store.js';
import type { RequestRow } from '../../src/store/types.js';

const MASTER = 'master-key-dashboard-test';

let running: RunningGateway;
let uiDir: string;
let store: SqlGovernanceStore;

/** A port nothing listens on: a deployment there fails to connect at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  uiDir = mkdtempSync(join(tmpdir(), 'stellwerk-ui-'));
  mkdirSync(join(uiDir, 'assets'));
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Stellwerk</title><script type="module" src="/ui/assets/app-3f9a.js"></script>');
  writeFileSync(join(uiDir, 'assets', 'app-3f9a.js'), 'console.log("dashboard");');
  const dead = await closedPort();
  running = await startGateway(`
auth: { master_key: ${MASTER} }
ui: { dist_dir: ${JSON.stringify(uiDir)}, session_ttl_ms: 3600000 }
resilience: { retry: { attempts: 1 }, breaker: { failures: 2, open_ms: 600000 } }
models:
  - name: demo
    deployments:
      - { provider: simulator, name: sim, ttft_ms: 0, tokens_per_second: 0, output_tokens: 5 }
  - name: flaky
    fallbacks: [demo]
    deployments:
      - { provider: openai-compatible, name: dead, base_url: "http://127.0.0.1:${dead}/v1", model: m }
`);
  store = running.gateway.runtime.governance!.store as unknown as SqlGovernanceStore;
});
after(async () => {
  await running.close();
  rmSync(uiDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function call(method: string, path: string, options: { key?: string; cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(running.url + path, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (static files, CSV)
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A GET whose path goes on the wire exactly as given. */
function rawGet(path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(running.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: any;
}

async function signIn(key: string, headers: Record<string, string> = {}): Promise<Session> {
  const answer = await call('POST', '/ui/session', { body: { key }, headers });
  assert.equal(answer.status, 200, answer.text);
  const setCookie = answer.headers.get('set-cookie')!;
  return { cookie: setCookie.split(';')[0]!, csrf: answer.json.csrf_token as string, setCookie, body: answer.json };
}

async function createTeam(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await call('POST', '/admin/teams', { key: MASTER, body: { name, ...extra } });
  assert.equal(answer.status, 201, answer.text);
  return answer.json.id as string;
}

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const answer = await call('POST', '/admin/keys', { key: MASTER, body });
  assert.equal(answer.status, 201, answer.text);
  return { id: answer.json.id as string, key: answer.json.key as string };
}

const row = requestRows({ alias: 'demo', deployment: 'sim', prompt_tokens: 10, completion_tokens: 5 });

describe('sessions', () => {
  test('the master key signs in; the cookie is HttpOnly, SameSite=Strict, Path=/, with Max-Age and no Secure over plain HTTP', async () => {
    const session = await signIn(MASTER);
    assert.deepEqual({ role: session.body.role, team_id: session.body.team_id, key_id: session.body.key_id }, { role: 'master', team_id: null, key_id: null });
    assert.match(session.csrf, /^[A-Za-z0-9_-]{20,}$/);
    const attributes = session.setCookie.split(';').map((part) => part.trim());
    assert.match(attributes[0]!, /^stellwerk_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=3600']) assert.ok(attributes.includes(attribute), attribute);
    assert.ok(!attributes.includes('Secure'));
    assert.ok(!session.setCookie.includes(MASTER), 'the key is never in the cookie');
    const current = await call('GET', '/ui/session', { cookie: session.cookie });
    assert.equal(current.status, 200);
    assert.equal(current.json.csrf_token, session.csrf);
    assert.equal(current.json.role, 'master');
  });

  test('behind a TLS-terminating proxy (x-forwarded-proto: https) the cookie is Secure', async () => {
    const session = await signIn(MASTER, { 'x-forwarded-proto': 'https' });
    assert.ok(session.setCookie.split(';').map((part) => part.trim()).includes('Secure'));
  });

  test('an admin key of a team signs in; a user key, an admin key without a team and a wrong key are refused with invalid_api_key', async () => {
    const team = await createTeam('sessions');
    const adminKey = await createKey({ team, role: 'admin' });
    const session = await signIn(adminKey.key);
    assert.deepEqual({ role: session.body.role, team_id: session.body.team_id, key_id: session.body.key_id }, { role: 'admin', team_id: team, key_id: adminKey.id });
    const userKey = await createKey({ team });
    const teamless = await createKey({ role: 'admin' });
    for (const key of [userKey.key, teamless.key, 'sk-stw-wrong', 'not-a-key']) {
      const refused = await call('POST', '/ui/session', { body: { key } });
      assert.equal(refused.status, 401, key);
      assert.equal(refused.json.error.code, 'invalid_api_key');
      assert.equal(refused.headers.get('set-cookie'), null);
    }
    const malformed = await call('POST', '/ui/session', { body: { password: 'x' } });
    assert.equal(malformed.status, 400);
    const form = await fetch(`${running.url}/ui/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${MASTER}` });
    assert.equal(form.status, 400, 'a cross-site form post cannot sign in');
  });

  test('GET /ui/session without or with a forged cookie is 401', async () => {
    assert.equal((await call('GET', '/ui/session')).status, 401);
    const session = await signIn(MASTER);
    const [name, value] = session.cookie.split('=') as [string, string];
    const [payload, signature] = value.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 1e9 })).toString('base64url');
    assert.equal((await call('GET', '/ui/session', { cookie: `${name}=${forged}.${signature}` })).status, 401);
    assert.equal((await call('GET', '/admin/keys', { cookie: `${name}=${forged}.${signature}` })).status, 401);
  });

  test('the cookie is accepted on /admin but never on /v1', async () => {
    const session = await signIn(MASTER);
    assert.equal((await call('GET', '/admin/keys', { cookie: session.cookie })).status, 200);
    const chat = await call('POST', '/v1/chat/completions', { cookie: session.cookie, body: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(chat.status, 401);
  });

  test('changes with the cookie need x-csrf-token (403 csrf_failed without or wrong); Bearer calls need none', async () => {
    const session = await signIn(MASTER);
    const without = await call('POST', '/admin/keys', { cookie: session.cookie, body: { name: 'via cookie' } });
    assert.equal(without.status, 403);
    assert.equal(without.json.error.code, 'csrf_failed');
    const wrong = await call('POST', '/admin/keys', { cookie: session.cookie, csrf: 'x'.repeat(session.csrf.length), body: { name: 'via cookie' } });
    assert.equal(wrong.status, 403);
    const other = await signIn(MASTER);
    assert.equal((await call('POST', '/admin/keys', { cookie: session.cookie, csrf: other.csrf, body: {} })).status, 403, 'another session’s token does not fit');
    const made = await call('POST', '/admin/keys', { cookie: session.cookie, csrf: session.csrf, body: { name: 'via cookie' } });
    assert.equal(made.status, 201, made.text);
    const bearer = await call('POST', '/admin/keys', { key: MASTER, body: { name: 'via bearer' } });
    assert.equal(bearer.status, 201);
    const signOutWithout = await call('DELETE', '/ui/session', { cookie: session.cookie });
    assert.equal(signOutWithout.status, 403);
    const signOut = await call('DELETE', '/ui/session', { cookie: session.cookie, csrf: session.csrf });
    assert.equal(signOut.status, 204);
    assert.match(signOut.headers.get('set-cookie')!, /^stellwerk_session=; .*Max-Age=0/);
  });

  test('revoking, blocking or rotating away an admin key ends its sessions at once', async () => {
    const team = await createTeam('revocation');
    const revoked = await createKey({ team, role: 'admin' });
    const session = await signIn(revoked.key);
    assert.equal((await call('GET', '/admin/keys', { cookie: session.cookie })).status, 200);
    assert.equal((await call('DELETE', `/admin/keys/${revoked.id}`, { key: MASTER })).status, 200);
    const after = await call('GET', '/admin/keys', { cookie: session.cookie });
    assert.equal(after.status, 401);
    assert.equal((await call('GET', '/ui/session', { cookie: session.cookie })).status, 401);

    const blocked = await createKey({ team, role: 'admin' });
    const blockedSession = await signIn(blocked.key);
    await call('PATCH', `/admin/keys/${blocked.id}`, { key: MASTER, body: { state: 'blocked' } });
    assert.equal((await call('GET', '/admin/keys', { cookie: blockedSession.cookie })).status, 401);

    const rotated = await createKey({ team, role: 'admin' });
    const rotatedSession = await signIn(rotated.key);
    await call('POST', `/admin/keys/${rotated.id}/rotate?grace_ms=60000`, { key: MASTER });
    assert.equal((await call('GET', '/admin/keys', { cookie: rotatedSession.cookie })).status, 200, 'within the grace period');
    await call('POST', `/admin/keys/${rotated.id}/rotate?grace_ms=0`, { key: MASTER });
    assert.equal((await call('GET', '/admin/keys', { cookie: rotatedSession.cookie })).status, 401);
  });
});

describe('reports', () => {
  // A past hour of its own, so that the gateway's own traffic never mixes in.
  const base = Date.UTC(2024, 2, 4, 10, 0, 0);
  let teamA: string;
  let teamB: string;
  let adminA: Session;

  before(async () => {
    teamA = await createTeam('reports A', { budget: 50, budget_period: 'month' });
    teamB = await createTeam('reports B');
    const keyA = await createKey({ team: teamA, role: 'admin', name: 'A admin', budget: 2, budget_period: 'day' });
    adminA = await signIn(keyA.key);
    const rows: RequestRow[] = [];
    // Minute 0: team A, latencies 1..100 ms, TTFT 10..109 ms on even rows, 5 errors (one 499 that is no error).
    for (let i = 0; i < 100; i++) {
      rows.push(
        row(`a0-${i}`, base + i * 100, {
          team_id: teamA,
          key_id: keyA.id,
          latency_ms: i + 1,
          ttft_ms: i % 2 === 0 ? 10 + i : null,
          status: i < 5 ? 502 : i === 5 ? 499 : 200,
          cost_nanos: 1_000_000,
          energy_wh: 0.5,
          co2e_ug: 2_000,
        }),
      );
    }
    // Minute 2: team A, all 250 ms.
    for (let i = 0; i < 10; i++) rows.push(row(`a2-${i}`, base + 120_000 + i, { team_id: teamA, key_id: keyA.id, latency_ms: 250, cost_nanos: 3_000_000, deployment: 'sim' }));
    // Minute 0: team B, slower and dearer; must never show for team A.
    for (let i = 0; i < 40; i++) rows.push(row(`b0-${i}`, base + i, { team_id: teamB, latency_ms: 5_000, cost_nanos: 7_000_000, alias: 'flaky', deployment: 'dead' }));
    // Today: spend for the budgets and spend_today.
    const now = Date.now();
    rows.push(row('today-a', now - 1_000, { team_id: teamA, key_id: keyA.id, cost_nanos: 250_000_000 }));
    rows.push(row('today-b', now - 1_000, { team_id: teamB, cost_nanos: 900_000_000 }));
    await store.insertRequests(rows);
  });

  const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 180_000).toISOString()}&bucket=minute`;

  test('stats: per-minute numbers are the seeded rows’ arithmetic; percentiles within the histogram’s precision', async () => {
    const answer = await call('GET', `/admin/stats?${range}`, { key: MASTER });
    assert.equal(answer.status, 200, answer.text);
    const [m0, m1, m2] = answer.json.buckets;
    assert.equal(answer.json.buckets.length, 3);
    assert.equal(m0.ts, new Date(base).toISOString());
    assert.equal(m0.requests, 140);
    assert.equal(m0.errors, 5 + 0, 'a 502 is an error; 499 is the client leaving');
    assert.equal(m0.rps, 140 / 60);
    assert.equal(m0.error_rate, 5 / 140);
    assert.equal(m0.cost_usd, 100 * 0.001 + 40 * 0.007);
    assert.equal(m0.energy_wh, 50);
    assert.equal(m0.co2e_g, 0.2);
    assert.deepEqual({ requests: m1.requests, errors: m1.errors, latency_p50_ms: m1.latency_p50_ms, cost_usd: m1.cost_usd }, { requests: 0, errors: 0, latency_p50_ms: null, cost_usd: 0 });
    assert.equal(m2.latency_p50_ms, 250, 'one value: the bin is clamped to the exact min and max');
    assert.equal(m2.latency_p99_ms, 250);
    assert.equal(m2.ttft_p50_ms, null);
    // Exact nearest-rank p50 of minute 0: the 70th of 140 values (1..100 and forty 5000s) is 70; p99 is 5000.
    assert.ok(Math.abs(m0.latency_p50_ms - 70) / 70 <= 0.045, String(m0.latency_p50_ms));
    assert.equal(m0.latency_p99_ms, 5000);
    // TTFT: 10, 12, …, 108 (50 values): p50 is the 25th, 58; p99 the 50th, 108.
    assert.ok(Math.abs(m0.ttft_p50_ms - 58) / 58 <= 0.045, String(m0.ttft_p50_ms));
    assert.equal(m0.ttft_p99_ms, 108);
    const totals = answer.json.totals;
    assert.equal(totals.requests, 150);
    assert.equal(totals.errors, 5);
    assert.ok(Math.abs(totals.cost_usd - (0.1 + 0.28 + 0.03)) < 1e-9);
    assert.ok(totals.spend_today_usd >= 1.15 - 1e-9, String(totals.spend_today_usd));
    assert.ok(totals.spend_month_usd >= totals.spend_today_usd);
  });

  test('stats, usage and budgets of an admin key show its team only', async () => {
    const stats = await call('GET', `/admin/stats?${range}`, { cookie: adminA.cookie });
    assert.equal(stats.status, 200, stats.text);
    assert.equal(stats.json.buckets[0].requests, 100);
    assert.equal(stats.json.buckets[0].latency_p99_ms, 100);
    assert.equal(stats.json.totals.requests, 110);
    assert.ok(Math.abs(stats.json.totals.spend_today_usd - 0.25) < 1e-9, 'only team A’s spend today');
    const usage = await call('GET', `/admin/usage?group_by=team&from=${new Date(base).toISOString()}&to=${new Date(base + 180_000).toISOString()}`, { cookie: adminA.cookie });
    assert.deepEqual(usage.json.data.map((item: { team: string }) => item.team), [teamA]);
    const budgets = await call('GET', '/admin/budgets', { cookie: adminA.cookie });
    assert.equal(budgets.status, 200);
    const teams = budgets.json.data.filter((item: { scope: string }) => item.scope === 'team');
    assert.deepEqual(teams.map((item: { id: string }) => item.id), [teamA]);
    assert.ok(budgets.json.data.every((item: { scope: string; id: string }) => item.scope === 'team' || item.id !== undefined));
    const keys = (await call('GET', '/admin/keys', { key: MASTER })).json.data as { id: string; team_id: string }[];
    const teamOf = new Map(keys.map((key) => [key.id, key.team_id]));
    for (const item of budgets.json.data.filter((entry: { scope: string }) => entry.scope === 'key')) assert.equal(teamOf.get(item.id), teamA);
  });

  test('budgets show the current period’s spend beside the limit', async () => {
    const budgets = await call('GET', '/admin/budgets', { key: MASTER });
    const team = budgets.json.data.find((item: { id: string }) => item.id === teamA);
    const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1)).toISOString();
    assert.deepEqual(team, { scope: 'team', id: teamA, name: 'reports A', budget_usd: 50, budget_period: 'month', spent_usd: 0.25, period_start: monthStart });
    const key = budgets.json.data.find((item: { name: string }) => item.name === 'A admin');
    const dayStart = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();
    assert.equal(key.budget_usd, 2);
    assert.equal(key.spent_usd, 0.25, 'the 2024 rows are outside today');
    assert.equal(key.period_start, dayStart);
    const other = budgets.json.data.find((item: { id: string }) => item.id === teamB);
    assert.equal(other.budget_usd, null);
    assert.equal(other.spent_usd, 0.9);
  });

  test('usage by deployment, and as CSV with a header row', async () => {
    const window = `from=${new Date(base).toISOString()}&to=${new Date(base + 180_000).toISOString()}`;
    const byDeployment = await call('GET', `/admin/usage?group_by=deployment&${window}`, { key: MASTER });
    assert.equal(byDeployment.status, 200, byDeployment.text);
    assert.deepEqual(
      byDeployment.json.data.map((item: { deployment: string; requests: number }) => [item.deployment, item.requests]),
      [['dead', 40], ['sim', 110]],
    );
    const csv = await call('GET', `/admin/usage?group_by=deployment&format=csv&${window}`, { key: MASTER });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    assert.equal(lines[0], 'deployment,requests,prompt_tokens,completion_tokens,spend_usd,energy_wh,co2e_g,estimated_requests');
    assert.equal(lines[1], 'dead,40,400,200,0.28,0,0,0');
    assert.equal(lines.length, 3);
    const bad = await call('GET', '/admin/usage?format=xml', { key: MASTER });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'format');
  });

  test('stats refuses bad ranges and too many buckets with a named parameter', async () => {
    const reversed = await call('GET', `/admin/stats?from=${new Date(base).toISOString()}&to=${new Date(base - 1).toISOString()}`, { key: MASTER });
    assert.equal(reversed.status, 400);
    assert.equal(reversed.json.error.param, 'from');
    const tooMany = await call('GET', `/admin/stats?from=2020-01-01T00:00:00Z&to=2024-01-01T00:00:00Z&bucket=minute`, { key: MASTER });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.error.param, 'bucket');
    const user = await createKey({ team: teamA });
    assert.equal((await call('GET', '/admin/stats', { key: user.key })).status, 403);
  });
});

describe('models', () => {
  test('shows each alias’s deployments with live state: the circuit opens after failures', async () => {
    const before = await call('GET', '/admin/models', { key: MASTER });
    assert.equal(before.status, 200, before.text);
    const flaky = () => before.json.data.find((item: { alias: string }) => item.alias === 'flaky');
    assert.deepEqual(flaky().fallbacks, ['demo']);
    assert.equal(flaky().deployments[0].state.circuit, 'closed');
    const sim = before.json.data.find((item: { alias: string }) => item.alias === 'demo').deployments[0];
    assert.equal(sim.name, 'sim');
    assert.equal(sim.provider, 'simulator');
    assert.equal(sim.kind, 'self-hosted');
    assert.deepEqual(sim.state, { available: true, circuit: 'closed', in_flight: 0, cooldown_until: null });
    // Two failed connects open the breaker (failures: 2); the fallback answers meanwhile.
    for (let i = 0; i < 2; i++) {
      const answer = await call('POST', '/v1/chat/completions', { key: MASTER, body: { model: 'flaky', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(answer.status, 200, answer.text);
    }
    const afterFailures = await call('GET', '/admin/models', { key: MASTER });
    const dead = afterFailures.json.data.find((item: { alias: string }) => item.alias === 'flaky').deployments[0];
    assert.equal(dead.name, 'dead');
    assert.equal(dead.provider, 'openai-compatible');
    assert.equal(dead.state.circuit, 'open');
    assert.equal(dead.state.available, false);
    assert.ok(dead.traffic_share >= 0 && dead.traffic_share <= 1);
  });

  test('the OpenAPI description lists the dashboard’s endpoints and the session cookie', async () => {
    const document = (await call('GET', '/admin/openapi.json')).json;
    for (const path of ['/admin/stats', '/admin/models', '/admin/budgets']) assert.ok(path in document.paths, path);
    assert.deepEqual(document.components.securitySchemes.session, { type: 'apiKey', in: 'cookie', name: 'stellwerk_session' });
  });

  test('an admin key sees only the aliases its team may use', async () => {
    const team = await createTeam('models only demo', { models: ['demo'] });
    const adminKey = await createKey({ team, role: 'admin' });
    const session = await signIn(adminKey.key);
    const answer = await call('GET', '/admin/models', { cookie: session.cookie });
    assert.deepEqual(answer.json.data.map((item: { alias: string }) => item.alias), ['demo']);
  });
});

describe('static files', () => {
  test('index.html for /ui and any path that is no file, with no-cache and a strict CSP', async () => {
    for (const path of ['/ui', '/ui/', '/ui/requests/abc', '/ui/keys?x=1']) {
      const answer = await call('GET', path);
      assert.equal(answer.status, 200, path);
      assert.match(answer.text, /<title>Stellwerk<\/title>/);
      assert.match(answer.headers.get('content-type')!, /^text\/html/);
      assert.equal(answer.headers.get('cache-control'), 'no-cache');
      const csp = answer.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.ok(!csp.includes('unsafe-inline'));
      assert.match(csp, /frame-ancestors 'none'/);
    }
  });

  test('assets with a year’s immutable cache; a missing asset is 404, not the index; no way out of the folder', async () => {
    const asset = await call('GET', '/ui/assets/app-3f9a.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.text, 'console.log("dashboard");');
    assert.match(asset.headers.get('content-type')!, /^text\/javascript/);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const etag = asset.headers.get('etag')!;
    assert.equal((await call('GET', '/ui/assets/app-3f9a.js', { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await call('GET', '/ui/assets/missing.js')).status, 404);
    // Sent as written (fetch would normalise the dots away before they reach the gateway).
    for (const path of ['/ui/..%2f..%2fetc%2fpasswd', '/ui/%2e%2e/index.html', '/ui/../../etc/passwd', '/ui/assets/..%2f..%2f..%2fpackage.json', '/ui/assets/%00x', '/ui/.env']) {
      const answer = await rawGet(path);
      assert.equal(answer.status, 404, path);
      assert.ok(!answer.text.includes('root:') && !answer.text.includes('"name"'), path);
    }
    assert.equal((await call('POST', '/ui/assets/app-3f9a.js')).status, 405);
    assert.equal((await call('GET', '/uix')).status, 404);
  });

  test('503 with how to build it when the dashboard is not built; 404 when turned off', async () => {
    const missing = await startGateway(`
auth: { master_key: ${MASTER} }
ui: { dist_dir: ${JSON.stringify(join(uiDir, 'nothing-here'))} }
models: [{ name: demo, deployments: [{ provider: simulator }] }]
`);
    try {
      const answer = await fetch(`${missing.url}/ui/`);
      assert.equal(answer.status, 503);
      assert.match(answer.headers.get('content-type')!, /^text\/plain/);
      assert.match(await answer.text(), /npm run build/);
    } finally {
      await missing.close();
    }
    const off = await startGateway(`
auth: { master_key: ${MASTER} }
ui: { enabled: false, dist_dir: ${JSON.stringify(uiDir)} }
models: [{ name: demo, deployments: [{ provider: simulator }] }]
`);
    try {
      assert.equal((await fetch(`${off.url}/ui/`)).status, 404);
      const signIn = await fetch(`${off.url}/ui/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: MASTER }) });
      assert.equal(signIn.status, 404);
    } finally {
      await off.close();
    }
  });
});
