import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/load.js';
import { Backend } from '../fleet/backend.js';
import type { EngineReading } from '../fleet/engines.js';
import type { FleetRouting, FleetSnapshot } from '../fleet/fleet.js';
import { RequestFleet } from '../fleet/placement.js';
import type { Deployment } from './deployment.js';
import type { ModelAlias } from './model-alias.js';
import { RouteTable } from './route-table.js';
import type { Placement } from './strategies.js';

interface Group {
  readonly alias: ModelAlias;
  readonly backends: Map<string, Backend>;
  readonly snapshot: FleetSnapshot;
}

/** An alias of self-hosted deployments (one server each) with the given strategy, and its fleet state built by hand. */
function group(strategy: string, names: string[], routing: Partial<FleetRouting> = {}, models: Record<string, string> = {}): Group {
  const deployments = names
    .map((name) => `      - { provider: openai-compatible, name: ${name}, base_url: "http://127.0.0.1:9/v1", model: ${models[name] ?? 'base'}, kind: self-hosted }`)
    .join('\n');
  const config = parseConfig(`models:\n  - name: m\n    routing: { strategy: ${strategy} }\n    deployments:\n${deployments}\n`, 'test', {});
  const alias = RouteTable.build(config).get('m')!;
  const backends = new Map<string, Backend>();
  const byDeployment = new Map<string, Backend>();
  for (const deployment of alias.deployments) {
    const backend = new Backend(`http://${deployment.name}/metrics`, {
      metricsUrl: `http://${deployment.name}/metrics`,
      engine: 'vllm',
      intervalMs: 250,
      timeoutMs: 200,
      staleAfterMs: 2_000,
      prefixCacheBlocks: 1_000,
      shareWindowMs: 60_000,
    });
    backend.states = [deployment.state];
    backend.deployments = [{ name: deployment.name, alias: 'm' }];
    backends.set(deployment.name, backend);
    byDeployment.set(deployment.name, backend);
  }
  const full: FleetRouting = { weights: { queue: 1, kv: 1, prefix: 1, lora: 1, work: 1 }, imbalance: 0.5, blockChars: 32, maxBlocks: 64, ...routing };
  return { alias, backends, snapshot: { backendByDeployment: byDeployment, routingByAlias: new Map([['m', full]]), backends: [...backends.values()] } };
}

function reading(values: Partial<EngineReading>): EngineReading {
  return {
    engine: 'vllm',
    waiting: 0,
    running: 0,
    kvUsage: 0,
    prefixHitRate: null,
    prefixHits: null,
    prefixQueries: null,
    runningLoras: [],
    waitingLoras: [],
    maxLoras: null,
    promptTokens: null,
    generationTokens: null,
    ...values,
  };
}

function placement(g: Group, body: unknown = { messages: [{ role: 'user', content: 'hi' }] }, now = Date.now(), promptTokens = 10): Placement {
  return { now, promptTokens, outputTokens: 10, usable: (deployment: Deployment) => deployment.isAvailable(now, promptTokens + 10), fleet: new RequestFleet(g.snapshot, body) };
}

function pickNames(g: Group, count: number, body?: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const name = g.alias.pickDeployment(placement(g, body))!.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

const now = () => Date.now();

test('least-queue: fewest waiting first, then fewest running', () => {
  const g = group('least-queue', ['a', 'b', 'c']);
  g.backends.get('a')!.recordReading(reading({ waiting: 2, running: 1 }), now());
  g.backends.get('b')!.recordReading(reading({ waiting: 0, running: 30 }), now());
  g.backends.get('c')!.recordReading(reading({ waiting: 0, running: 5 }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'c');
  g.backends.get('c')!.recordReading(reading({ waiting: 1, running: 0 }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'b', 'a server that queues ranks after one that only runs many');
});

test('least-queue: requests sent since the last scrape count, so a burst spreads before the next scrape', () => {
  const g = group('least-queue', ['a', 'b']);
  g.backends.get('a')!.recordReading(reading({ running: 3 }), now());
  g.backends.get('b')!.recordReading(reading({ running: 0 }), now());
  const counts = pickNames(g, 7);
  // b takes the first three (0,1,2 < 3), then they alternate: 5 for b and 2 for a in all.
  assert.equal(counts.get('b'), 5);
  assert.equal(counts.get('a'), 2);
  assert.equal(g.backends.get('b')!.sentSinceScrape, 5);
  g.backends.get('b')!.recordReading(reading({ running: 5 }), now());
  assert.equal(g.backends.get('b')!.sentSinceScrape, 0);
});

test('least-queue: ties are broken at random', () => {
  const g = group('least-queue', ['a', 'b']);
  const counts = new Map<string, number>();
  for (let i = 0; i < 2_000; i++) {
    // A fresh scrape before each pick keeps both at the same queue.
    for (const backend of g.backends.values()) backend.recordReading(reading({ running: 4 }), now());
    const name = g.alias.pickDeployment(placement(g))!.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  // Binomial(2000, 0.5): ±150 is more than 6 standard deviations.
  assert.ok(Math.abs((counts.get('a') ?? 0) - 1_000) < 150, JSON.stringify([...counts]));
});

test('stale or failed metrics fall back to the gateway in-flight count, never leaving a server stuck as busy', () => {
  const g = group('least-queue', ['a', 'b']);
  const [a, b] = g.alias.deployments;
  const old = now() - 10_000;
  g.backends.get('a')!.recordReading(reading({ waiting: 50, running: 50 }), old);
  g.backends.get('b')!.recordReading(reading({ waiting: 0, running: 0 }), now());
  a!.state.inFlight = 0;
  b!.state.inFlight = 0;
  // a's saturated reading is 10 s old (stale after 2 s): it is judged by in-flight (0) like b's queue (0 + sent).
  const counts = pickNames(g, 10);
  assert.ok((counts.get('a') ?? 0) >= 4, JSON.stringify([...counts]));
  // A failed scrape makes even a recent reading unusable.
  g.backends.get('a')!.recordReading(reading({ waiting: 50 }), now());
  g.backends.get('a')!.recordFailure('metrics endpoint answered HTTP 500');
  g.backends.get('b')!.recordReading(reading({ running: 3 }), now());
  a!.state.inFlight = 1;
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'a', 'in-flight 1 beats a fresh queue of 3');
  a!.state.inFlight = 0;
});

test('kv-aware: with equal queues, the server with more free KV cache wins; queue depth still counts', () => {
  const g = group('kv-aware', ['a', 'b']);
  g.backends.get('a')!.recordReading(reading({ running: 4, kvUsage: 0.9 }), now());
  g.backends.get('b')!.recordReading(reading({ running: 4, kvUsage: 0.2 }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'b');
  g.backends.get('a')!.recordReading(reading({ running: 0, kvUsage: 0.5 }), now());
  g.backends.get('b')!.recordReading(reading({ running: 20, kvUsage: 0.2 }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'a', 'queue 0 + kv 0.5 beats queue 1 (relative) + kv 0.2');
});

const prompt = (system: string, question: string) => ({ messages: [{ role: 'system', content: system }, { role: 'user', content: question }] });

test('prefix-affinity: the same prefix goes to the same server; a new prefix to the least loaded', () => {
  const g = group('prefix-affinity', ['a', 'b', 'c'], { imbalance: 10 });
  for (const backend of g.backends.values()) backend.recordReading(reading({ running: 1 }), now());
  const systemA = 'You are the billing assistant of a railway company. '.repeat(8);
  const systemB = 'You translate timetables between German and English. '.repeat(8);
  const first = g.alias.pickDeployment(placement(g, prompt(systemA, 'q1')))!.name;
  for (let i = 0; i < 5; i++) assert.equal(g.alias.pickDeployment(placement(g, prompt(systemA, `question ${i}`)))!.name, first);
  const other = g.alias.pickDeployment(placement(g, prompt(systemB, 'q')))!.name;
  assert.notEqual(other, first, 'a different prefix goes to a less loaded server');
  for (let i = 0; i < 3; i++) assert.equal(g.alias.pickDeployment(placement(g, prompt(systemB, `again ${i}`)))!.name, other);
});

test('prefix-affinity: the longest matched prefix wins', () => {
  const g = group('prefix-affinity', ['a', 'b'], { imbalance: 10 });
  for (const backend of g.backends.values()) backend.recordReading(reading({ running: 0 }), now());
  const base = 'Shared opening of every prompt in this test. '.repeat(4);
  const longer = base + 'Then a long section only the second conversation has. '.repeat(4);
  const fleetA = new RequestFleet(g.snapshot, prompt(base, ''));
  const fleetB = new RequestFleet(g.snapshot, prompt(longer, ''));
  const [a, b] = g.alias.deployments;
  fleetA.promptBlocks('m');
  fleetA.notePick(a!, now());
  fleetB.promptBlocks('m');
  fleetB.notePick(b!, now());
  assert.equal(g.alias.pickDeployment(placement(g, prompt(longer, 'next turn')))!.name, 'b');
});

test('prefix-affinity: bounded load — a hot prefix spills over instead of piling on one server', () => {
  const g = group('prefix-affinity', ['a', 'b', 'c'], { imbalance: 0.5 });
  for (const backend of g.backends.values()) backend.recordReading(reading({ running: 0 }), now());
  const hot = prompt('The one system prompt every client of this app sends. '.repeat(8), 'hello');
  const counts = pickNames(g, 30, hot);
  // Without a bound all 30 would go to one server; with 1.5 × the mean the busiest holds at most ceil(1.5 × 31 / 3) = 16.
  for (const [name, count] of counts) assert.ok(count <= 16, `${name} got ${count}`);
  assert.ok(counts.size >= 2, JSON.stringify([...counts]));
  const loads = [...g.backends.values()].map((backend) => backend.sentSinceScrape);
  assert.equal(loads.reduce((x, y) => x + y, 0), 30);
});

test('lora-affinity: servers with the adapter loaded first, then those loading it, least queued within', () => {
  const g = group('lora-affinity', ['a', 'b', 'c'], {}, { a: 'sql-lora', b: 'sql-lora', c: 'sql-lora' });
  g.backends.get('a')!.recordReading(reading({ running: 1, runningLoras: ['chat-lora'] }), now());
  g.backends.get('b')!.recordReading(reading({ running: 9, runningLoras: ['sql-lora', 'chat-lora'] }), now());
  g.backends.get('c')!.recordReading(reading({ running: 2, waitingLoras: ['sql-lora'] }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'b', 'loaded beats less busy');
  g.backends.get('b')!.recordReading(reading({ running: 9, runningLoras: ['chat-lora'] }), now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'c', 'about to load beats not loaded');
  g.backends.get('c')!.recordReading(reading({ running: 2 }), now());
  g.backends.get('b')!.sentSinceScrape = 0;
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'a', 'none has it: the least queued');
});

test('fleet: the weights decide between signals', () => {
  const queueOnly = group('fleet', ['a', 'b'], { weights: { queue: 1, kv: 0, prefix: 0, lora: 0, work: 0 } });
  queueOnly.backends.get('a')!.recordReading(reading({ running: 2, kvUsage: 0.1 }), now());
  queueOnly.backends.get('b')!.recordReading(reading({ running: 1, kvUsage: 0.95 }), now());
  assert.equal(queueOnly.alias.pickDeployment(placement(queueOnly))!.name, 'b');
  const kvHeavy = group('fleet', ['a', 'b'], { weights: { queue: 1, kv: 5, prefix: 0, lora: 0, work: 0 } });
  kvHeavy.backends.get('a')!.recordReading(reading({ running: 2, kvUsage: 0.1 }), now());
  kvHeavy.backends.get('b')!.recordReading(reading({ running: 1, kvUsage: 0.95 }), now());
  assert.equal(kvHeavy.alias.pickDeployment(placement(kvHeavy))!.name, 'a');
  const lora = group('fleet', ['a', 'b'], { weights: { queue: 1, kv: 0, prefix: 0, lora: 2, work: 0 } }, { a: 'x', b: 'x' });
  lora.backends.get('a')!.recordReading(reading({ running: 3, runningLoras: ['x'] }), now());
  lora.backends.get('b')!.recordReading(reading({ running: 1 }), now());
  assert.equal(lora.alias.pickDeployment(placement(lora))!.name, 'a');
});

test('fleet: prefix affinity within the load bound', () => {
  const g = group('fleet', ['a', 'b'], { weights: { queue: 0.1, kv: 0, prefix: 1, lora: 0, work: 0 }, imbalance: 0.5 });
  for (const backend of g.backends.values()) backend.recordReading(reading({ running: 2 }), now());
  const body = prompt('A long shared system prompt for the fleet strategy test. '.repeat(6), 'x');
  const first = g.alias.pickDeployment(placement(g, body))!.name;
  assert.equal(g.alias.pickDeployment(placement(g, body))!.name, first, 'affinity outweighs one more request in the queue');
  const counts = pickNames(g, 20, body);
  assert.ok(counts.size === 2, `the bound spills a hot prefix: ${JSON.stringify([...counts])}`);
});

test('fleet strategies without fleet knowledge (no snapshot) fall back to in-flight counts', () => {
  const g = group('fleet', ['a', 'b']);
  const [a, b] = g.alias.deployments;
  a!.state.inFlight = 3;
  b!.state.inFlight = 1;
  const at = Date.now();
  const bare: Placement = { now: at, promptTokens: 1, outputTokens: 1, usable: (d) => d.isAvailable(at, 2), fleet: new RequestFleet(undefined, {}) };
  assert.equal(g.alias.pickDeployment(bare)!.name, 'b');
  const none: Placement = { now: at, promptTokens: 1, outputTokens: 1, usable: (d) => d.isAvailable(at, 2) };
  assert.equal(g.alias.pickDeployment(none)!.name, 'b');
  a!.state.inFlight = 0;
  b!.state.inFlight = 0;
});

test('least-work: the server with less prompt work outstanding wins, though it runs more requests', () => {
  const g = group('least-work', ['a', 'b']);
  const [a, b] = g.alias.deployments;
  g.backends.get('a')!.recordReading(reading({ running: 2 }), now());
  g.backends.get('b')!.recordReading(reading({ running: 9 }), now());
  // a was just sent one 6k-token prompt and has no first byte for it; b ten short ones, all answered but one.
  const long = a!.state.begin(now(), 6_200, true, 6_000);
  const short = b!.state.begin(now(), 300, true, 100);
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'b');
  // Once a's prompt is prefilled (first byte), a is the lighter one.
  a!.state.firstByte(long, now());
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'a');
  a!.state.end(long, null, now(), 0);
  b!.state.end(short, null, now(), 0);
});

test('least-work: a server whose fresh reading queues ranks after one with room, whatever the work', () => {
  const g = group('least-work', ['a', 'b']);
  const [a] = g.alias.deployments;
  g.backends.get('a')!.recordReading(reading({ running: 1 }), now());
  g.backends.get('b')!.recordReading(reading({ waiting: 1, running: 256 }), now());
  const ticket = a!.state.begin(now(), 9_000, true, 8_000);
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'a');
  a!.state.end(ticket, null, now(), 0);
});

test('least-work: prompt blocks the server likely caches are not counted as work', () => {
  const g = group('least-work', ['a', 'b']);
  const [a, b] = g.alias.deployments;
  for (const backend of g.backends.values()) backend.recordReading(reading({ running: 0 }), now());
  const system = 'A long shared system prompt that the first server has cached already. '.repeat(20);
  const body = prompt(system, 'the next question');
  const warm = new RequestFleet(g.snapshot, body);
  warm.promptBlocks('m');
  warm.notePick(a!, now());
  // a has 200 tokens outstanding, b 100; this ~370-token prompt is almost all cached on a.
  const onA = a!.state.begin(now(), 200, true, 200);
  const onB = b!.state.begin(now(), 100, true, 100);
  const bytes = Buffer.byteLength(JSON.stringify(body));
  assert.equal(g.alias.pickDeployment(placement(g, body, now(), Math.ceil(bytes / 4)))!.name, 'a');
  // Without the cached prefix, a's larger backlog loses.
  assert.equal(g.alias.pickDeployment(placement(g, prompt('Another prompt entirely. '.repeat(40), 'q'), now(), Math.ceil(bytes / 4)))!.name, 'b');
  a!.state.end(onA, null, now(), 0);
  b!.state.end(onB, null, now(), 0);
});

test('least-work: a server that prefilled faster while queuing gets proportionally more work', () => {
  const g = group('least-work', ['fast', 'slow']);
  const [fast, slow] = g.alias.deployments;
  const t0 = now() - 1_000;
  // fast prefilled 40k tokens/s while requests waited; slow never beat the default.
  g.backends.get('fast')!.recordReading(reading({ waiting: 3, promptTokens: 0 }), t0);
  g.backends.get('fast')!.recordReading(reading({ waiting: 0, promptTokens: 40_000 }), t0 + 1_000);
  g.backends.get('slow')!.recordReading(reading({ running: 0, promptTokens: 0 }), t0 + 1_000);
  assert.equal(g.backends.get('fast')!.peakPromptRate, 40_000);
  const onFast = fast!.state.begin(now(), 3_000, true, 3_000);
  const onSlow = slow!.state.begin(now(), 1_000, true, 1_000);
  // (3000 + 10) / 40k < (1000 + 10) / 10k.
  assert.equal(g.alias.pickDeployment(placement(g))!.name, 'fast');
  fast!.state.end(onFast, null, now(), 0);
  slow!.state.end(onSlow, null, now(), 0);
});

test('fleet: the work weight steers away from a server with a long prompt outstanding', () => {
  const run = (work: number): string => {
    const g = group('fleet', ['a', 'b'], { weights: { queue: 1, kv: 0, prefix: 0, lora: 0, work } });
    const [a, b] = g.alias.deployments;
    g.backends.get('a')!.recordReading(reading({ running: 1 }), now());
    g.backends.get('b')!.recordReading(reading({ running: 2 }), now());
    const onA = a!.state.begin(now(), 8_000, true, 8_000);
    const name = g.alias.pickDeployment(placement(g))!.name;
    a!.state.end(onA, null, now(), 0);
    void b;
    return name;
  };
  assert.equal(run(0), 'a', 'without the work term the shorter queue wins');
  assert.equal(run(1), 'b', 'with it, 8,000 outstanding prompt tokens outweigh one request more');
});
