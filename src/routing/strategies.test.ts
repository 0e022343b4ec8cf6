import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/load.js';
import type { Deployment } from './deployment.js';
import type { ModelAlias } from './model-alias.js';
import { RouteTable } from './route-table.js';
import type { Placement } from './strategies.js';

function alias(strategy: string, deployments: string): ModelAlias {
  const yaml = `models:\n  - name: m\n    routing: { strategy: ${strategy} }\n    deployments:\n${deployments}`;
  return RouteTable.build(parseConfig(yaml, 'test', {})).get('m')!;
}

function placement(now = Date.now(), extra: Partial<Placement> = {}): Placement {
  return { now, promptTokens: 100, outputTokens: 100, usable: (deployment: Deployment) => deployment.isAvailable(now, 200), ...extra };
}

function shares(model: ModelAlias, picks: number, at = placement()): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const name = model.pickDeployment(at)?.name ?? 'none';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

// Weights 2:3 give 4,000 and 6,000 picks; ±5% of those is more than 4 standard deviations of the
// binomial spread (about 49), so the check fails by chance less than once in 10,000 runs.
test('weighted: the split follows the weights within ±5% over 10,000 selections', () => {
  const model = alias('weighted', [
    '      - { provider: simulator, name: a, weight: 2 }',
    '      - { provider: simulator, name: b, weight: 3 }',
    '      - { provider: simulator, name: off, weight: 0 }',
  ].join('\n') + '\n');
  const counts = shares(model, 10_000);
  for (const [name, expected] of [['a', 4_000], ['b', 6_000]] as const) {
    const got = counts.get(name) ?? 0;
    assert.ok(Math.abs(got - expected) <= expected * 0.05, `${name}: ${got} vs ${expected}`);
  }
  assert.equal(counts.get('off'), undefined);
});

test('round-robin: each usable deployment in turn, skipping unusable ones', () => {
  const model = alias('round-robin', '      - { provider: simulator, name: a }\n      - { provider: simulator, name: b }\n      - { provider: simulator, name: c }\n');
  const order = Array.from({ length: 6 }, () => model.pickDeployment(placement())!.name);
  assert.deepEqual(order, ['a', 'b', 'c', 'a', 'b', 'c']);
  const withoutB = placement(Date.now(), { usable: (deployment) => deployment.name !== 'b' });
  assert.deepEqual(Array.from({ length: 4 }, () => model.pickDeployment(withoutB)!.name), ['a', 'c', 'a', 'c']);
});

test('least-busy: the fewest in flight, ties broken at random', () => {
  const model = alias('least-busy', '      - { provider: simulator, name: a }\n      - { provider: simulator, name: b }\n      - { provider: simulator, name: c }\n');
  const [a, b, c] = model.deployments;
  a!.state.inFlight = 3;
  b!.state.inFlight = 1;
  c!.state.inFlight = 1;
  const counts = shares(model, 2_000);
  assert.equal(counts.get('a'), undefined);
  assert.ok(Math.abs((counts.get('b') ?? 0) - 1_000) < 150, JSON.stringify([...counts]));
});

test('latency: the faster deployment wins; an idle slow one is tried again once its record has faded', () => {
  const model = alias('latency', '      - { provider: simulator, name: fast }\n      - { provider: simulator, name: slow }\n');
  const [fast, slow] = model.deployments;
  const now = 1_000_000;
  fast!.state.latency.record(now, 100, 10);
  slow!.state.latency.record(now, 500, 50);
  assert.equal(model.pickDeployment(placement(now))!.name, 'fast');
  // The fast one keeps getting traffic; the slow one's record fades (decay 60 s by default).
  fast!.state.latency.record(now + 600_000, 100, 10);
  assert.equal(model.pickDeployment(placement(now + 600_000))!.name, 'slow');
});

test('latency: a deployment with no record yet is tried first', () => {
  const model = alias('latency', '      - { provider: simulator, name: known }\n      - { provider: simulator, name: new }\n');
  model.deployments[0]!.state.latency.record(Date.now(), 50, 5);
  assert.equal(model.pickDeployment(placement())!.name, 'new');
});

test('cost: the cheapest deployment for this request', () => {
  const model = alias('cost', [
    '      - { provider: simulator, name: pricey, price: { input_per_1m: 5, output_per_1m: 15 } }',
    '      - { provider: simulator, name: cheap, price: { input_per_1m: 0.5, output_per_1m: 1.5 } }',
    '      - { provider: simulator, name: mid, price: { input_per_1m: 1, output_per_1m: 2 } }',
  ].join('\n') + '\n');
  assert.deepEqual([...shares(model, 50)], [['cheap', 50]]);
  model.deployments[1]!.state.cooldownUntil = Date.now() + 60_000;
  assert.equal(model.pickDeployment(placement())!.name, 'mid', 'the cheapest available one');
});

test('priority: tier 0 until it is saturated, then tier 1, and back when tier 0 frees', () => {
  const model = alias('priority', [
    '      - { provider: simulator, name: gpu-a, priority: 0, max_concurrency: 2 }',
    '      - { provider: simulator, name: gpu-b, priority: 0, max_concurrency: 2 }',
    '      - { provider: simulator, name: cloud, priority: 1 }',
  ].join('\n') + '\n');
  const [gpuA, gpuB] = model.deployments;
  assert.ok(model.pickDeployment(placement())!.name.startsWith('gpu-'));
  gpuA!.state.inFlight = 2;
  assert.equal(model.pickDeployment(placement())!.name, 'gpu-b');
  gpuB!.state.inFlight = 2;
  assert.equal(model.pickDeployment(placement())!.name, 'cloud', 'tier 0 saturated: spill');
  gpuB!.state.inFlight = 1;
  assert.equal(model.pickDeployment(placement())!.name, 'gpu-b', 'tier 0 has room again');
  gpuB!.state.inFlight = 0;
  gpuB!.state.cooldownUntil = Date.now() + 10_000;
  gpuA!.state.inFlight = 2;
  assert.equal(model.pickDeployment(placement())!.name, 'cloud', 'a 429 cooldown saturates too');
});

test('rpm of an upstream account is respected per deployment', () => {
  const model = alias('weighted', '      - { provider: simulator, name: limited, rpm: 3 }\n      - { provider: simulator, name: other, weight: 0.000001 }\n');
  const now = Date.now();
  const limited = model.deployments[0]!;
  for (let i = 0; i < 3; i++) limited.state.begin(now, 10, false);
  assert.equal(limited.isAvailable(now, 10), false);
  assert.equal(model.pickDeployment(placement(now))!.name, 'other');
});
