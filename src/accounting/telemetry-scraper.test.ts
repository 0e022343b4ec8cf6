import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parsePrometheusText } from '../fleet/prometheus-text.js';
import { createLogger } from '../telemetry/logger.js';
import { DeploymentTelemetry, readGpus, readTokens, type GpuReading } from './telemetry-scraper.js';
import { telemetryProfile } from './profile.js';
import type { EnergyFit } from './telemetry-fit.js';

const silent = createLogger('silent', new Writable({ write: (_chunk, _encoding, done) => done() }));

function telemetry(windowS = 600): DeploymentTelemetry {
  const settings = { dcgm_url: 'http://127.0.0.1:1/metrics', metrics_url: 'http://127.0.0.1:1/metrics', interval_ms: 5_000, window_s: windowS, timeout_ms: 1_000 };
  return new DeploymentTelemetry('box', settings, (fit: EnergyFit) => telemetryProfile('openai-compatible', { grid: 'FR' }, fit, null), silent);
}

test('DCGM: energy counters per GPU in joules, the gpus filter by index or UUID, power when there is no counter', () => {
  const text = `# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-a"} 2000
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="1",UUID="GPU-b"} 3000
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="2",UUID="GPU-c"} 5000
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a"} 300
`;
  const all = readGpus(parsePrometheusText(text), undefined) as Extract<GpuReading, { kind: 'energy' }>;
  assert.deepEqual([...all.joules], [['0', 2], ['1', 3], ['2', 5]]);
  const some = readGpus(parsePrometheusText(text), [0, 'GPU-c']) as Extract<GpuReading, { kind: 'energy' }>;
  assert.deepEqual([...some.joules.keys()], ['0', '2']);
  const power = readGpus(parsePrometheusText('DCGM_FI_DEV_POWER_USAGE{gpu="0"} 250.5\nDCGM_FI_DEV_POWER_USAGE{gpu="1"} 100\n'), undefined);
  assert.deepEqual(power, { kind: 'power', watts: 350.5 });
  assert.equal(readGpus(parsePrometheusText('DCGM_FI_DEV_GPU_TEMP{gpu="0"} 50\n'), undefined), null);
  assert.equal(readGpus(parsePrometheusText(text), [7]), null, 'a filter that matches no GPU');
});

test('token counters of vLLM (summed over engines), SGLang and TGI', () => {
  const vllm = 'vllm:prompt_tokens_total{engine="0"} 100.0\nvllm:prompt_tokens_total{engine="1"} 50.0\nvllm:generation_tokens_total{engine="0"} 7\n';
  assert.deepEqual(readTokens(parsePrometheusText(vllm)), { promptTokens: 150, outputTokens: 7, server: 'vllm' });
  const sglang = 'sglang:prompt_tokens_total{model_name="m"} 10\nsglang:generation_tokens_total{model_name="m"} 20\n';
  assert.deepEqual(readTokens(parsePrometheusText(sglang)), { promptTokens: 10, outputTokens: 20, server: 'sglang' });
  const tgi = 'tgi_request_input_length_sum 300\ntgi_request_input_length_count 3\ntgi_request_generated_tokens_sum 90\n';
  assert.deepEqual(readTokens(parsePrometheusText(tgi)), { promptTokens: 300, outputTokens: 90, server: 'tgi' });
  assert.equal(readTokens(parsePrometheusText('process_cpu_seconds_total 3\n')), null);
});

/** Feeds `count` readings of a GPU that follows a = 0.03 J, b = 0.12 J, c = 90 W. */
function feed(target: DeploymentTelemetry, count: number, reading: (t: number, joules: number) => GpuReading, start = 0): number {
  let joules = 1_000_000;
  let prompt = 0;
  let output = 0;
  let t = start;
  for (let i = 0; i < count; i++) {
    const dp = (i * 7919) % 30_000;
    const dout = (i * 104_729) % 6_000;
    joules += 0.03 * dp + 0.12 * dout + 90 * 5;
    prompt += dp;
    output += dout;
    t += 5_000;
    target.record(t, reading(t, joules), prompt, output);
  }
  return t;
}

test('recorded energy counters fit the coefficients; a GPU counter reset breaks the series instead of counting negative energy', () => {
  const target = telemetry();
  const end = feed(target, 40, (_t, joules) => ({ kind: 'energy', joules: new Map([['0', joules / 2], ['1', joules / 2]]) }));
  const fit = target.fit!;
  assert.ok(Math.abs(fit.inputJ - 0.03) < 1e-6 && Math.abs(fit.outputJ - 0.12) < 1e-6 && Math.abs(fit.idleW - 90) < 1e-4, JSON.stringify(fit));
  assert.equal(target.cell.profile?.method, 'telemetry');
  assert.equal(target.cell.profile?.gPerKWh, 56);
  // GPU 0's counter drops (the exporter restarted): that interval is left out, the fit stays exact.
  feed(target, 20, (_t, joules) => ({ kind: 'energy', joules: new Map([['0', joules / 2 - 400_000], ['1', joules / 2]]) }), end);
  assert.ok(Math.abs(target.fit!.outputJ - 0.12) < 1e-6);
  assert.equal(target.fit!.intervals, 58, '39 + 19: the interval across the reset is dropped');
});

test('an energy counter that did not change is a stale exporter reading: the interval extends to the next change', () => {
  const target = telemetry();
  let t = 0;
  const joules = new Map([['0', 100]]);
  target.record((t += 5_000), { kind: 'energy', joules }, 0, 0);
  target.record((t += 5_000), { kind: 'energy', joules: new Map([['0', 100]]) }, 500, 100);
  target.record((t += 5_000), { kind: 'energy', joules: new Map([['0', 1_000]]) }, 900, 200);
  assert.equal((target as unknown as { samples: unknown[] }).samples.length, 2);
});

test('power is integrated between scrapes; the window drops old samples', () => {
  const target = telemetry(120);
  feed(target, 60, (_t, _joules) => ({ kind: 'power', watts: 500 }));
  const samples = (target as unknown as { samples: { t: number; energyJ: number }[] }).samples;
  assert.equal(samples.length, 25, '120 s at 5 s: 24 intervals');
  assert.equal(samples.at(-1)!.energyJ - samples.at(-2)!.energyJ, 2_500, '500 W for 5 s');
});

test('telemetry config: defaults filled in, a bad URL or interval refused with the field named', async () => {
  const { parseConfig, ConfigError } = await import('../config/load.js');
  const yaml = (telemetry: string) => `models:\n  - name: m\n    deployments:\n      - { provider: openai-compatible, base_url: http://127.0.0.1:1/v1, model: x, telemetry: ${telemetry} }\n`;
  const config = parseConfig(yaml('{ dcgm_url: "http://gpu:9400/metrics", metrics_url: "http://gpu:8000/metrics" }'), 'test', {});
  const deployment = config.models[0]!.deployments[0]! as { telemetry?: unknown };
  assert.deepEqual(deployment.telemetry, { dcgm_url: 'http://gpu:9400/metrics', metrics_url: 'http://gpu:8000/metrics', interval_ms: 5_000, window_s: 600, timeout_ms: 2_000 });
  for (const [telemetry, field] of [
    ['{ dcgm_url: "ftp://gpu/metrics", metrics_url: "http://gpu:8000/metrics" }', 'dcgm_url'],
    ['{ dcgm_url: "http://gpu:9400/metrics", metrics_url: "http://gpu:8000/metrics", interval_ms: 10 }', 'interval_ms'],
    ['{ dcgm_url: "http://gpu:9400/metrics" }', 'metrics_url'],
  ] as const) {
    assert.throws(() => parseConfig(yaml(telemetry), 'test', {}), (error: unknown) => error instanceof ConfigError && error.message.includes(`telemetry.${field}`), telemetry);
  }
});
