import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import type { SqlGovernanceStore } from '../../src/store/sql-store.js';

/** What the GPUs of the test "server" really draw. */
const TRUTH = { inputJ: 0.03, outputJ: 0.12, idleW: 150 };
const PUE = 1.25;

/**
 * A GPU box as its exporters show it: a DCGM exporter (two GPUs' energy counters in mJ, and a
 * third GPU of another deployment that the `gpus` filter leaves out) and a vLLM metrics
 * endpoint. Each scrape round advances the box by one interval of random traffic; the round
 * advances on whichever endpoint is read first, so that both reads of a round agree.
 */
class GpuBox {
  private readonly reads = { dcgm: 0, vllm: 0 };
  private round = 0;
  private last = Date.now();
  private gpuMj = [5_000_000_000, 7_000_000_000];
  private otherGpuMj = 1;
  private prompt = 0;
  private output = 0;
  private seed = 7;
  readonly servers: Server[] = [];
  dcgmFails = false;
  /** Every request to the DCGM endpoint, answered or failed. */
  dcgmRequests = 0;

  private random(): number {
    // A linear congruential generator: reproducible traffic.
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return this.seed / 2 ** 31;
  }

  private read(endpoint: 'dcgm' | 'vllm'): void {
    if (++this.reads[endpoint] <= this.round) return;
    this.round++;
    const now = Date.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    const idle = this.random() < 0.2;
    const dp = idle ? 0 : Math.round(this.random() * 40_000);
    const dout = idle ? 0 : Math.round(this.random() * 8_000);
    const joules = TRUTH.inputJ * dp + TRUTH.outputJ * dout + TRUTH.idleW * seconds;
    // Split unevenly over the two GPUs, as tensor-parallel shards are never quite equal.
    this.gpuMj[0]! += joules * 0.55 * 1000;
    this.gpuMj[1]! += joules * 0.45 * 1000;
    this.otherGpuMj += 400_000 * this.random();
    this.prompt += dp;
    this.output += dout;
  }

  dcgmText(): string {
    this.read('dcgm');
    const lines = ['# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).', '# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter'];
    const gpus = [...this.gpuMj, this.otherGpuMj];
    gpus.forEach((mj, gpu) => {
      lines.push(`DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="${gpu}",UUID="GPU-000${gpu}",device="nvidia${gpu}",modelName="NVIDIA H100 80GB HBM3",Hostname="box"} ${Math.round(mj)}`);
    });
    lines.push('# TYPE DCGM_FI_DEV_POWER_USAGE gauge');
    gpus.forEach((_, gpu) => lines.push(`DCGM_FI_DEV_POWER_USAGE{gpu="${gpu}",UUID="GPU-000${gpu}"} 312.5`));
    return `${lines.join('\n')}\n`;
  }

  vllmText(): string {
    this.read('vllm');
    return [
      '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} ${this.prompt}.0`,
      '# TYPE vllm:generation_tokens_total counter',
      `vllm:generation_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} ${this.output}.0`,
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0',
      '',
    ].join('\n');
  }

  async listen(text: () => string, fails: () => boolean = () => false): Promise<string> {
    const server = createServer((req, res) => {
      if (fails()) {
        res.writeHead(503).end('exporter down');
        return;
      }
      const body = text();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  close(): Promise<unknown> {
    return Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

let box: GpuBox;
let upstream: Emulator;
let running: RunningGateway;
let client: OpenAI;

before(async () => {
  box = new GpuBox();
  const dcgmUrl = await box.listen(() => box.dcgmText(), () => (box.dcgmRequests++, box.dcgmFails));
  const vllmUrl = await box.listen(() => box.vllmText());
  upstream = await startEmulator();
  running = await startGateway(`
models:
  - name: llama
    deployments:
      - provider: openai-compatible
        name: gpu-box
        base_url: ${upstream.url}
        model: emu-model
        pue: ${PUE}
        grid: FR
        telemetry: { dcgm_url: "${dcgmUrl}", metrics_url: "${vllmUrl}", interval_ms: 1000, window_s: 600, gpus: [0, 1] }
`);
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await running.close();
  await upstream.close();
  await box.close();
});

/** Polls until `check` returns a value, or fails after `ms`. */
async function eventually<T>(check: () => T | null | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function telemetryOf(name: string) {
  return (running.gateway as unknown as { telemetry: { get(name: string): { fit: { inputJ: number; outputJ: number; idleW: number } | null } | undefined } }).telemetry.get(name);
}

test('a deployment with telemetry gets no energy figure before a fit, then figures from the fitted coefficients, method telemetry', async () => {
  const messages = [{ role: 'user' as const, content: 'How much energy does this take?' }];
  const early = await client.chat.completions.create({ model: 'llama', messages }).withResponse();
  // A fit needs ten intervals of one second at least, so this request comes before it.
  assert.equal(early.response.headers.get('x-stellwerk-energy-wh'), null, 'no made-up figure before the fit');

  const fit = await eventually(() => telemetryOf('gpu-box')?.fit, 30_000, 'the telemetry fit');
  // Scrape timing jitters the idle term a little; the fit is still close to the truth.
  assert.ok(Math.abs(fit.inputJ - TRUTH.inputJ) < TRUTH.inputJ * 0.1, `inputJ ${fit.inputJ}`);
  assert.ok(Math.abs(fit.outputJ - TRUTH.outputJ) < TRUTH.outputJ * 0.1, `outputJ ${fit.outputJ}`);
  assert.ok(Math.abs(fit.idleW - TRUTH.idleW) < TRUTH.idleW * 0.1, `idleW ${fit.idleW}`);

  const { data, response } = await client.chat.completions.create({ model: 'llama', messages }).withResponse();
  // The fit may move with the next scrape; the figure is from the one in force when the request settled.
  const coefficients = { inputJ: fit.inputJ, outputJ: fit.outputJ };
  const wh = Number(response.headers.get('x-stellwerk-energy-wh'));
  const expected = ((coefficients.inputJ * data.usage!.prompt_tokens + coefficients.outputJ * data.usage!.completion_tokens) * PUE) / 3600;
  assert.ok(wh > 0);
  assert.ok(Math.abs(wh - expected) <= expected * 0.02 + 1e-6, `${wh} Wh vs ${expected} Wh from the fit`);
  assert.ok(Math.abs(Number(response.headers.get('x-stellwerk-co2e-g')) - (wh / 1000) * 56) < 1e-5, 'FR grid');

  const stream = await client.chat.completions.create({ model: 'llama', messages, stream: true, stream_options: { include_usage: true } });
  let method: unknown;
  for await (const chunk of stream) if (chunk.usage) method = (chunk as unknown as { stellwerk?: { energy_method: string } }).stellwerk?.energy_method;
  assert.equal(method, 'telemetry');

  await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS);
  const rows = await (running.gateway.runtime.governance!.store as unknown as SqlGovernanceStore).listRequests();
  // Rows in arrival order: the answer before the fit (if it came first), the whole answer, the stream.
  const stored = rows.at(-2)!;
  assert.ok(Math.abs(stored.energy_wh! - wh) < 1e-6, `stored ${stored.energy_wh} Wh, header ${wh} Wh`);
});

test('a failing exporter is logged once, not per scrape, and the fit survives a config reload', async () => {
  box.dcgmFails = true;
  const failed = (line: Record<string, unknown>) => line.msg === 'telemetry scrape failed; the fit keeps its window and ages out';
  await eventually(() => running.logs.find(failed), 10_000, 'the failure log');
  const logged = running.logs.filter(failed).length;
  // Two more scrape rounds fail without a new line.
  const seen = box.dcgmRequests;
  await eventually(() => (box.dcgmRequests >= seen + 2 ? true : null), 10_000, 'two more scrapes');
  assert.equal(running.logs.filter(failed).length, logged);
  assert.equal(JSON.stringify(running.logs.filter(failed)).includes('503'), true, 'the reason says what went wrong');
  box.dcgmFails = false;
  await eventually(() => running.logs.find((line) => line.msg === 'telemetry scrape works again'), 10_000, 'the recovery log');
  assert.equal(running.logs.filter(failed).length, logged);

  // A reload that keeps the telemetry settings keeps the scraper and its fit.
  const before = telemetryOf('gpu-box');
  running.gateway.reload(running.gateway.runtime.config);
  assert.equal(telemetryOf('gpu-box'), before);
  const deployment = running.gateway.runtime.routes.get('llama')!.deployments[0]!;
  assert.equal(deployment.energyProfile()?.method, 'telemetry');
});
