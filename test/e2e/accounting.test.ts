import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import { startFaultUpstream, type FaultUpstream } from '../emulators/fault-upstream.js';
import type { SqlGovernanceStore } from '../../src/store/sql-store.js';

const MASTER = 'master-key-accounting-test';

/** An OpenAI-compatible upstream whose streams never carry a usage chunk (as with `stream_usage: false`). */
function startNoUsageUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const content of ['Hello', ' world', ', how are you?']) {
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server })));
}

let running: RunningGateway;
let plain: { url: string; server: Server };
let faulty: FaultUpstream;

before(async () => {
  plain = await startNoUsageUpstream();
  faulty = await startFaultUpstream('faulty', { kind: 'reset-after-first-event' });
  running = await startGateway(`
auth: { master_key: ${MASTER} }
models:
  - name: sim
    deployments:
      - { provider: simulator, name: sim-fr, model: llama-3.1-8b, ttft_ms: 0, tokens_per_second: 0, output_tokens: 10,
          hardware: { gpu: h100-sxm, count: 1 }, grid: FR, pue: 1.2, price: { input_per_1m: 1, output_per_1m: 2 } }
  - name: quiet-gpt
    deployments:
      - { provider: openai-compatible, name: quiet-gpt, base_url: ${plain.url}, model: gpt-4o-mini, stream_usage: false, price: { input_per_1m: 1000, output_per_1m: 1000 } }
  - name: quiet-llama
    deployments:
      - { provider: openai-compatible, name: quiet-llama, base_url: ${plain.url}, model: my-llama, stream_usage: false }
  - name: broken
    retry: { attempts: 1 }
    deployments:
      - { provider: openai-compatible, name: broken, base_url: ${faulty.url}, model: gpt-4o, price: { input_per_1m: 1000, output_per_1m: 1000 } }
`);
});

after(async () => {
  await running.close();
  await faulty.close();
  await new Promise((resolve) => plain.server.close(resolve));
});

function chat(body: Record<string, unknown>) {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello world' }], ...body }),
  });
}

function events(text: string): Record<string, unknown>[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: ') && block !== 'data: [DONE]')
    .map((block) => JSON.parse(block.slice(6)) as Record<string, unknown>);
}

/** The stored row of the last request to `alias` (each test sends its own alias one request, or reads the last). */
async function storedRow(alias: string) {
  await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS);
  const store = running.gateway.runtime.governance!.store as SqlGovernanceStore;
  return (await store.listRequests()).filter((row) => row.alias === alias).at(-1);
}

test('a whole answer carries cost, energy and CO2e headers, and the row stores the same figures', async () => {
  const response = await chat({ model: 'sim', max_tokens: 10 });
  assert.equal(response.status, 200);
  const answer = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  const cost = Number(response.headers.get('x-stellwerk-cost-usd'));
  const { prompt_tokens, completion_tokens } = answer.usage;
  assert.equal(cost, Math.round(((prompt_tokens * 1 + completion_tokens * 2) / 1e6) * 1e9) / 1e9);
  const wh = Number(response.headers.get('x-stellwerk-energy-wh'));
  const co2e = Number(response.headers.get('x-stellwerk-co2e-g'));
  assert.ok(wh > 0 && co2e > 0);
  assert.ok(Math.abs(co2e - (wh / 1000) * 56) < 1e-6, 'FR grid at 56 g/kWh');
  assert.equal(response.headers.get('x-stellwerk-usage-estimated'), null);
  const row = (await storedRow('sim'))!;
  assert.equal(row.cost_nanos, Math.round(cost * 1e9));
  assert.ok(Math.abs(row.energy_wh! - wh) < 1e-6);
  assert.ok(Math.abs(row.co2e_ug! - co2e * 1e6) < 1);
  assert.equal(row.usage_estimated, false);
});

test('a stream with include_usage gets the figures in its usage chunk as `stellwerk`', async () => {
  const response = await chat({ model: 'sim', max_tokens: 10, stream: true, stream_options: { include_usage: true } });
  const chunks = events(await response.text());
  const last = chunks.at(-1)!;
  assert.ok(last.usage !== undefined);
  const extension = last.stellwerk as { cost_usd: number; energy_wh: number; co2e_g: number; estimated: boolean; energy_method: string };
  assert.equal(extension.estimated, false);
  assert.equal(extension.energy_method, 'parametric');
  assert.ok(extension.cost_usd > 0 && extension.energy_wh > 0 && extension.co2e_g > 0);
  // Without include_usage the client sees no usage and no extension.
  const quiet = events(await (await chat({ model: 'sim', max_tokens: 10, stream: true })).text());
  assert.ok(quiet.every((chunk) => chunk.usage === undefined && chunk.stellwerk === undefined));
});

test('a stream without usage is counted with the model tokenizer and marked estimated', async () => {
  const response = await chat({ model: 'quiet-gpt', stream: true, stream_options: { include_usage: true } });
  const chunks = events(await response.text());
  const last = chunks.at(-1)!;
  // "Hello world, how are you?" is 7 o200k tokens; the prompt 2 tokens + 3 per message + 3.
  assert.deepEqual(last.usage, { prompt_tokens: 8, completion_tokens: 7, total_tokens: 15 });
  assert.equal((last.stellwerk as { estimated: boolean }).estimated, true);
  const row = (await storedRow('quiet-gpt'))!;
  assert.equal(row.usage_estimated, true);
  assert.equal(row.completion_tokens, 7);
  assert.equal(row.cost_nanos, 15_000 * 1000);
});

test('a stream of a model without a known tokenizer is estimated at four characters a token', async () => {
  await (await chat({ model: 'quiet-llama', stream: true })).text();
  const row = (await storedRow('quiet-llama'))!;
  assert.equal(row.completion_tokens, Math.ceil('Hello world, how are you?'.length / 4));
  assert.equal(row.usage_estimated, true);
});

test('an aborted stream gets the usage of what was streamed before the break', async () => {
  await (await chat({ model: 'broken', stream: true })).text();
  const row = (await storedRow('broken'))!;
  assert.equal(row.usage_estimated, true);
  assert.equal(row.completion_tokens, 1, '"answer" is one token');
  assert.ok(row.cost_nanos > 0);
});

test('metrics export cost, energy and CO2e counters; /admin/usage sums them', async () => {
  const metrics = await (await fetch(`${running.url}/metrics`)).text();
  for (const name of ['stellwerk_cost_usd_total', 'stellwerk_energy_wh_total', 'stellwerk_co2e_grams_total']) {
    assert.match(metrics, new RegExp(`^${name}\\{alias="sim",deployment="sim-fr",team=""\\} [0-9.e-]+$`, 'm'), name);
  }
  await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS);
  const store = running.gateway.runtime.governance!.store as SqlGovernanceStore;
  const rows = (await store.listRequests()).filter((row) => row.alias === 'sim');
  const usage = (await (await fetch(`${running.url}/admin/usage?group_by=alias`, { headers: { authorization: `Bearer ${MASTER}` } })).json()) as {
    data: { alias: string; energy_wh: number; co2e_g: number; estimated_requests: number; spend_usd: number }[];
  };
  const sim = usage.data.find((row) => row.alias === 'sim')!;
  const wh = rows.reduce((sum, row) => sum + (row.energy_wh ?? 0), 0);
  const ug = rows.reduce((sum, row) => sum + (row.co2e_ug ?? 0), 0);
  assert.ok(Math.abs(sim.energy_wh - wh) < 1e-9);
  assert.equal(sim.co2e_g, ug / 1e6);
  assert.equal(sim.estimated_requests, 0);
  assert.equal(usage.data.find((row) => row.alias === 'quiet-gpt')!.estimated_requests, 1);
});
