import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/load.js';
import type { Deployment } from './deployment.js';
import { RouteTable } from './route-table.js';
import type { Placement } from './strategies.js';

function alias(routing: string) {
  const yaml = `models:
  - name: m
    routing: ${routing}
    deployments:
      - { provider: openai-compatible, name: fr, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, grid: FR, pue: 1.2 }
      - { provider: openai-compatible, name: pl, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, grid: PL, pue: 1.2 }
`;
  return RouteTable.build(parseConfig(yaml, 'test', {})).get('m')!;
}

function placement(now: number): Placement {
  return { now, promptTokens: 500, outputTokens: 200, usable: (deployment: Deployment) => deployment.isAvailable(now, 700) };
}

test('energy with minimize: carbon picks the H100 on the cleaner grid (FR over PL)', () => {
  const model = alias('{ strategy: energy, minimize: carbon }');
  const now = Date.now();
  for (let i = 0; i < 50; i++) assert.equal(model.pickDeployment(placement(now))?.name, 'fr');
});

test('energy with a latency bound that FR misses picks PL', () => {
  const model = alias('{ strategy: energy, minimize: carbon, max_ttft_ms: 1000 }');
  const now = Date.now();
  const fr = model.deployments.find((deployment) => deployment.name === 'fr')!;
  fr.state.latency.record(now, 5_000, null);
  for (let i = 0; i < 50; i++) assert.equal(model.pickDeployment(placement(now))?.name, 'pl');
  // When no deployment meets the bound, the fastest is taken rather than none.
  const pl = model.deployments.find((deployment) => deployment.name === 'pl')!;
  pl.state.latency.record(now, 3_000, null);
  assert.equal(model.pickDeployment(placement(now))?.name, 'pl');
});

test('energy: a deployment without an energy profile still serves when it is the only usable one', () => {
  const yaml = `models:
  - name: m
    routing: { strategy: energy }
    deployments:
      - { provider: simulator, name: plain }
`;
  const model = RouteTable.build(parseConfig(yaml, 'test', {})).get('m')!;
  assert.equal(model.pickDeployment(placement(Date.now()))?.name, 'plain');
});

test('energy: a deployment with a telemetry fit is ranked by its fitted J per token, not its parametric model', () => {
  const model = alias('{ strategy: energy }');
  const [fr, pl] = [model.deployments.find((d) => d.name === 'fr')!, model.deployments.find((d) => d.name === 'pl')!];
  // Same hardware and PUE: a tie broken at random. PL's GPUs measure at half the parametric figures.
  const parametric = pl.energyProfile()!;
  pl.telemetry = { profile: { ...parametric, inputJ: parametric.inputJ / 2, outputJ: parametric.outputJ / 2, method: 'telemetry' } };
  for (let i = 0; i < 50; i++) assert.equal(model.pickDeployment(placement(Date.now()))?.name, 'pl');
  assert.equal(pl.expectedEnergy(500, 200, 'energy')! * 2, fr.expectedEnergy(500, 200, 'energy'));
  // Without a fit (no profile in the cell) the parametric model is back.
  pl.telemetry = { profile: null };
  assert.equal(pl.expectedEnergy(500, 200, 'energy'), fr.expectedEnergy(500, 200, 'energy'));
});
