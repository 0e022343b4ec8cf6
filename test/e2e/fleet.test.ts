import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { spawnCli } from '../helpers/cli.js';
import { startMetricsUpstream, type MetricsUpstream } from '../emulators/metrics-upstream.js';
import type { BackendView } from '../../src/fleet/fleet-view.js';

const MASTER = 'fleet-master-key-0123';

let busy: MetricsUpstream;
let idle: MetricsUpstream;
let running: RunningGateway;
let client: OpenAI;

before(async () => {
  busy = await startMetricsUpstream('busy');
  idle = await startMetricsUpstream('idle');
  busy.metrics = { mode: 'ok', waiting: 40, running: 64, kv: 0.99 };
  idle.metrics = { mode: 'ok', waiting: 0, running: 2, kv: 0.3 };
  running = await startGateway(`
auth: { master_key: ${MASTER} }
fleet: { scrape_interval_ms: 200, scrape_timeout_ms: 190, stale_after_ms: 1000 }
models:
  - name: llama
    routing: { strategy: least-queue }
    retry: { attempts: 1 }
    deployments:
      - { provider: openai-compatible, name: gpu-busy, base_url: "${busy.baseUrl}", model: base, kind: self-hosted }
      - { provider: openai-compatible, name: gpu-idle, base_url: "${idle.baseUrl}", model: base, kind: self-hosted, engine: vllm }
`);
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: MASTER, maxRetries: 0 });
});

after(async () => {
  await running.close();
  await busy.close();
  await idle.close();
});

async function fleetState(key = MASTER): Promise<{ status: number; body: { data: BackendView[]; window_ms: number; error?: { message: string } } }> {
  const response = await fetch(`${running.url}/admin/fleet`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as never };
}

/** Polls GET /admin/fleet until `ready` holds for it, or fails after the deadline. */
async function waitForFleet(ready: (views: BackendView[]) => boolean, what: string): Promise<BackendView[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await fleetState();
    if (ready(body.data)) return body.data;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(body.data)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const view = (views: BackendView[], name: string) => views.find((entry) => entry.deployments.some((deployment) => deployment.name === name))!;

async function ask(): Promise<string> {
  const { data, response } = await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
  assert.match(data.choices[0]!.message.content!, /^answered by /);
  return response.headers.get('x-stellwerk-deployment')!;
}

test('fleet: a server reporting a saturated queue gets no traffic; when its metrics go stale, in-flight counts decide', async () => {
  const views = await waitForFleet((data) => data.length === 2 && data.every((entry) => !entry.stale), 'both servers scraped');
  const busyView = view(views, 'gpu-busy');
  assert.equal(busyView.backend, busy.baseUrl.replace(/\/v1$/, '/metrics'), 'metrics URL defaults to the base URL without /v1');
  assert.deepEqual([busyView.detected_engine, busyView.engine, busyView.waiting, busyView.running, busyView.kv_cache_usage], ['vllm', 'auto', 40, 64, 0.99]);
  assert.equal(view(views, 'gpu-idle').engine, 'vllm');

  for (let i = 0; i < 8; i++) assert.equal(await ask(), 'gpu-idle');
  assert.equal(busy.chats, 0);
  assert.equal(idle.chats, 8);

  const shares = await fleetState();
  assert.equal(view(shares.body.data, 'gpu-idle').picks, 8);
  assert.equal(view(shares.body.data, 'gpu-idle').share, 1);
  assert.equal(view(shares.body.data, 'gpu-busy').share, 0);

  // The busy server's metrics stop answering: its saturated reading must not keep it shunned.
  busy.metrics = { mode: 'hang' };
  const stale = await waitForFleet((data) => view(data, 'gpu-busy').stale, 'the busy server marked stale');
  assert.match(view(stale, 'gpu-busy').error!, /no answer within \d+ ms/);
  assert.equal(view(stale, 'gpu-idle').stale, false);
  // Judged by the gateway's own in-flight count (0, requests are sequential), it beats the idle server's 2 running.
  for (let i = 0; i < 4; i++) assert.equal(await ask(), 'gpu-busy');
  assert.equal(busy.chats, 4);

  // Both stale: both judged by in-flight counts alone, ties at random — both get traffic.
  idle.metrics = { mode: 'fail' };
  await waitForFleet((data) => data.every((entry) => entry.stale), 'both servers stale');
  const before = { busy: busy.chats, idle: idle.chats };
  for (let i = 0; i < 40; i++) await ask();
  assert.ok(busy.chats - before.busy > 0 && idle.chats - before.idle > 0, `busy ${busy.chats - before.busy}, idle ${idle.chats - before.idle}`);

  // Metrics back: the reading is fresh again and routing uses it.
  busy.metrics = { mode: 'ok', waiting: 40, running: 64, kv: 0.99 };
  idle.metrics = { mode: 'ok', waiting: 0, running: 2, kv: 0.3 };
  await waitForFleet((data) => data.every((entry) => !entry.stale && entry.error === null), 'both servers fresh again');
  for (let i = 0; i < 4; i++) assert.equal(await ask(), 'gpu-idle');
});

test('GET /admin/fleet: the master key and admin keys only; stellwerk fleet prints it', async () => {
  const anonymous = await fetch(`${running.url}/admin/fleet`);
  assert.equal(anonymous.status, 401);
  const created = await fetch(`${running.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'plain user' }),
  });
  assert.equal(created.status, 201);
  const userKey = ((await created.json()) as { key: string }).key;
  const refused = await fleetState(userKey);
  assert.equal(refused.status, 403);
  assert.match(refused.body.error!.message, /master key or an admin key/);

  const table = spawnCli(['fleet', '--url', running.url, '--key', MASTER]);
  assert.equal(await table.exited(), 0, table.stderr.join('\n'));
  const text = table.stdout.join('\n');
  assert.match(text, /^BACKEND\s+ENGINE\s+WAIT\s+RUN\s+KV/m);
  assert.ok(text.includes(busy.baseUrl.replace(/\/v1$/, '/metrics')), text);
  assert.match(text, /vllm/);

  const json = spawnCli(['fleet', '--json'], { STELLWERK_URL: running.url, STELLWERK_MASTER_KEY: MASTER });
  assert.equal(await json.exited(), 0);
  const parsed = JSON.parse(json.stdout.join('\n')) as { object: string; data: BackendView[] };
  assert.equal(parsed.object, 'list');
  assert.equal(parsed.data.length, 2);

  const denied = spawnCli(['fleet', '--url', running.url, '--key', userKey]);
  assert.equal(await denied.exited(), 1);
  assert.match(denied.stderr.join('\n'), /403/);
  assert.ok(!denied.stderr.join('\n').includes(userKey), 'the key is not echoed');
});
