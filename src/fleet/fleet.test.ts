import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parseConfig, ConfigError } from '../config/load.js';
import { RouteTable } from '../routing/route-table.js';
import { DeploymentStates } from '../routing/deployment-state.js';
import { createLogger } from '../telemetry/logger.js';
import { buildFleetSnapshot, Fleet, fleetSnapshotOf } from './fleet.js';

const silent = createLogger('silent', new Writable({ write: (_chunk, _encoding, done) => done() }));

const yaml = (extra = '') => `
fleet: { scrape_interval_ms: 1000, stale_after_ms: 500 }
models:
  - name: a
    routing: { strategy: fleet, weights: { prefix: 2 }, imbalance: 0.25 }
    fleet: { scrape_interval_ms: 200 }
    deployments:
      - { provider: openai-compatible, name: a-base, base_url: "http://127.0.0.1:9/v1", model: base, kind: self-hosted }
      - { provider: openai-compatible, name: a-lora, base_url: "http://127.0.0.1:9/v1", model: sql-lora, kind: self-hosted, engine: vllm }
      - { provider: openai-compatible, name: a-ollama, base_url: "http://127.0.0.1:9/v1", model: llama3, kind: self-hosted, engine: ollama }
      - { provider: openai-compatible, name: a-cloud, base_url: "http://127.0.0.1:9/v1", model: base }
  - name: b
    deployments:
      - { provider: openai-compatible, name: b-1, base_url: "http://127.0.0.1:9/v1", model: base, kind: self-hosted, metrics_url: "http://user:secret@127.0.0.1:9/custom?token=x" }
${extra}`;

test('fleet config: one backend per metrics URL, defaults, per-alias timing, Ollama without scraping, cloud deployments left out', () => {
  const config = parseConfig(yaml(), 'test', {});
  const states = new DeploymentStates();
  const routes = RouteTable.build(config, states);
  const fleet = new Fleet(silent);
  try {
    const snapshot = fleet.sync(config, routes);
    assert.equal(fleetSnapshotOf(routes), snapshot);
    const shared = snapshot.backendByDeployment.get('a-base')!;
    assert.equal(snapshot.backendByDeployment.get('a-lora'), shared, 'two deployments on one server are one backend');
    assert.equal(shared.id, 'http://127.0.0.1:9/metrics');
    assert.deepEqual(shared.deployments.map((d) => d.name), ['a-base', 'a-lora']);
    assert.equal(shared.states.length, 2);
    assert.equal(shared.settings.intervalMs, 200, 'the alias overrides the global interval');
    assert.equal(shared.settings.timeoutMs, 160, 'timeout: 80% of the interval');
    assert.equal(shared.settings.staleAfterMs, 500);
    const ollama = snapshot.backendByDeployment.get('a-ollama')!;
    assert.equal(ollama.settings.metricsUrl, null);
    assert.equal(ollama.id, 'deployment:a-ollama');
    assert.equal(snapshot.backendByDeployment.get('a-cloud'), undefined);
    const custom = snapshot.backendByDeployment.get('b-1')!;
    assert.equal(custom.id, 'http://127.0.0.1:9/custom', 'no credentials or query in the shown id');
    assert.equal(custom.settings.metricsUrl, 'http://user:secret@127.0.0.1:9/custom?token=x');
    assert.equal(custom.settings.staleAfterMs, 1000, 'never stale before the next scrape is due');
    assert.deepEqual(snapshot.routingByAlias.get('a')!.weights, { queue: 1, kv: 1, prefix: 2, lora: 1, work: 1 });
    assert.equal(snapshot.routingByAlias.get('a')!.imbalance, 0.25);

    // A reload keeps what a server's backend learned.
    shared.recentBlocks.touch(42);
    const routes2 = RouteTable.build(config, states);
    const snapshot2 = fleet.sync(config, routes2);
    assert.equal(snapshot2.backendByDeployment.get('a-base'), shared);
    assert.ok(shared.recentBlocks.has(42));
    assert.equal(shared.states.length, 2, 'states are relinked, not appended');
  } finally {
    fleet.stop();
  }
});

test('fleet config: self-hosted only for openai-compatible; engine and metrics_url need it; values checked', () => {
  const cases: [string, RegExp][] = [
    ['    deployments: [{ provider: openai, model: gpt-4o, kind: self-hosted }]', /only openai-compatible deployments may be self-hosted/],
    ['    deployments: [{ provider: openai-compatible, base_url: "http://x/v1", model: m, engine: vllm }]', /engine needs kind: self-hosted/],
    ['    deployments: [{ provider: openai-compatible, base_url: "http://x/v1", model: m, metrics_url: "http://x/metrics" }]', /metrics_url needs kind: self-hosted/],
    ['    deployments: [{ provider: openai-compatible, base_url: "http://x/v1", model: m, kind: self-hosted, engine: triton }]', /engine/],
    ['    deployments: [{ provider: openai-compatible, base_url: "http://x/v1", model: m, kind: self-hosted, metrics_url: "ftp://x" }]', /metrics_url/],
    ['    routing: { strategy: fleet, weights: { queue: -1 } }\n    deployments: [{ provider: simulator }]', /weights/],
  ];
  for (const [model, message] of cases) {
    assert.throws(
      () => parseConfig(`models:\n  - name: m\n${model}\n`, 'test', {}),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      model,
    );
  }
  assert.throws(() => parseConfig('fleet: { scrape_interval_ms: 10 }\nmodels: [{ name: m, deployments: [{ provider: simulator }] }]\n', 'test', {}), ConfigError);
  const ok = parseConfig('models: [{ name: m, routing: { strategy: prefix-affinity }, deployments: [{ provider: simulator }] }]\n', 'test', {});
  assert.equal(ok.fleet.scrape_interval_ms, 250);
  assert.equal(ok.models[0]!.routing.strategy, 'prefix-affinity');
});

test('buildFleetSnapshot: the same backends as the gateway builds, without scraping; previous backends are kept by id', () => {
  const config = parseConfig(yaml(), 'test', {});
  const routes = RouteTable.build(config);
  const snapshot = buildFleetSnapshot(config, routes);
  assert.equal(fleetSnapshotOf(routes), snapshot);
  const shared = snapshot.backendByDeployment.get('a-base')!;
  assert.equal(snapshot.backendByDeployment.get('a-lora'), shared);
  assert.equal(shared.settings.intervalMs, 200);
  assert.equal(snapshot.backends.length, 3, 'a shared server, Ollama, and b-1');
  for (const backend of snapshot.backends) assert.equal(backend.scraping, false, `${backend.id}: no scrape started`);
  const fleet = new Fleet(silent);
  try {
    const synced = fleet.sync(config, RouteTable.build(config));
    assert.ok(synced.backendByDeployment.get('a-base')!.scraping, 'the gateway\'s fleet starts a scrape at once');
  } finally {
    fleet.stop();
  }

  shared.recentBlocks.touch(7);
  const again = buildFleetSnapshot(config, RouteTable.build(config), new Map(snapshot.backends.map((backend) => [backend.id, backend])));
  assert.equal(again.backendByDeployment.get('a-base'), shared);
  assert.ok(shared.recentBlocks.has(7));
  assert.equal(shared.states.length, 2);
});
