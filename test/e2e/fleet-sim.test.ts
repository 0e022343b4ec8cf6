import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { findProfile } from '../../src/sim/profiles.js';
import { SimServer } from '../../src/sim/server.js';
import type { BackendView } from '../../src/fleet/fleet-view.js';

// Two simulated inference servers (continuous batching, vLLM metrics) behind the gateway. Each
// runs at most two sequences at once, so a handful of long requests sent straight to one of them
// saturates it: it reports waiting requests in its /metrics, and `least-queue` must send the
// gateway's traffic to the other.

const MASTER = 'fleet-sim-master-key-01';
const base = findProfile('h100-llama3-8b');
const profile = { ...base, engine: { ...base.engine, maxNumSeqs: 2 } };
const MODEL = profile.model.id;

let saturated: SimServer;
let free: SimServer;
let saturatedUrl: string;
let running: RunningGateway;
let client: OpenAI;

before(async () => {
  saturated = new SimServer({ profile });
  free = new SimServer({ profile });
  saturatedUrl = await saturated.listen(0);
  const freeUrl = await free.listen(0);
  running = await startGateway(`
auth: { master_key: ${MASTER} }
fleet: { scrape_interval_ms: 100, scrape_timeout_ms: 90, stale_after_ms: 2000 }
models:
  - name: llama
    routing: { strategy: least-queue }
    retry: { attempts: 1 }
    deployments:
      - { provider: openai-compatible, name: sim-saturated, base_url: "${saturatedUrl}", model: "${MODEL}", kind: self-hosted, engine: vllm }
      - { provider: openai-compatible, name: sim-free, base_url: "${freeUrl}", model: "${MODEL}", kind: self-hosted, engine: vllm }
`);
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: MASTER, maxRetries: 0 });
});

after(async () => {
  await running.close();
  await saturated.close();
  await free.close();
});

async function fleet(): Promise<BackendView[]> {
  const response = await fetch(`${running.url}/admin/fleet`, { headers: { authorization: `Bearer ${MASTER}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { data: BackendView[] }).data;
}

const named = (views: BackendView[], name: string) => views.find((view) => view.deployments.some((deployment) => deployment.name === name));

test('fleet: with two simulated servers, the saturated one gets no traffic until its queue drains', async () => {
  // Long answers sent straight to one server: two run, the rest wait in its queue.
  const direct = new OpenAI({ baseURL: saturatedUrl, apiKey: 'unused', maxRetries: 0 });
  const controller = new AbortController();
  const hogs = Array.from({ length: 6 }, () =>
    direct.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Tell a long story.' }], max_tokens: 20_000, stream: true }, { signal: controller.signal })
      .then(async (stream) => {
        for await (const _chunk of stream) {
          /* keep the request running */
        }
      })
      .catch(() => {}),
  );
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const views = await fleet();
      const busy = named(views, 'sim-saturated');
      const idle = named(views, 'sim-free');
      if (busy !== undefined && idle !== undefined && !busy.stale && !idle.stale && (busy.waiting ?? 0) >= 3) break;
      if (Date.now() > deadline) assert.fail(`the saturated server never reported its queue: ${JSON.stringify(views)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const placed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { data, response } = await client.chat.completions
        .create({ model: 'llama', messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 4 })
        .withResponse();
      assert.equal(data.choices[0]!.finish_reason, 'length');
      placed.push(response.headers.get('x-stellwerk-deployment')!);
    }
    assert.deepEqual(placed, Array(6).fill('sim-free'), 'every request went to the server without a queue');
  } finally {
    controller.abort();
    await Promise.all(hogs);
  }
});
