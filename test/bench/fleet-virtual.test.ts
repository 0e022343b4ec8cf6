import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCapacity, prepareRequests, replay, type ReplayOptions } from '../../bench/fleet-virtual.js';
import { findProfile } from '../../src/sim/profiles.js';
import { seededRandom } from '../../src/sim/random.js';
import type { TraceRequest } from '../../src/sim/trace.js';
import { DEFAULT_WORKLOAD } from '../../src/sim/workload.js';

const profile = findProfile('a100-llama3-8b');

/** 600 requests over 300 s with varied sizes (seeded), like a trace's rows. */
function syntheticTrace(): TraceRequest[] {
  const random = seededRandom(7);
  return Array.from({ length: 600 }, (_, i) => ({ at: i * 0.5 + random() * 0.5, promptTokens: 200 + Math.floor(random() * 3000), outputTokens: 5 + Math.floor(random() * 60) }));
}

const requests = prepareRequests(syntheticTrace(), { ...DEFAULT_WORKLOAD, seed: 3 }, profile.engine.blockSize);
const base: Omit<ReplayOptions, 'strategy' | 'rate'> = { profile, servers: 4, traceRate: 2, scrapeMs: 250, routerSeed: 1 };

test('virtual fleet replay: deterministic for the same seeds, every request served, round-robin exactly even', () => {
  const first = replay(requests, { ...base, strategy: 'least-queue', rate: 12 }, 0.8);
  const second = replay(requests, { ...base, strategy: 'least-queue', rate: 12 }, 0.8);
  assert.deepEqual(second, first);
  assert.equal(first.result.failed, 0);
  assert.equal(first.perServer.reduce((a, b) => a + b, 0), requests.length);
  const roundRobin = replay(requests, { ...base, strategy: 'round-robin', rate: 12 });
  assert.deepEqual(roundRobin.perServer, [150, 150, 150, 150]);
  assert.equal(roundRobin.result.max_share_vs_fair, 1);
});

test('virtual fleet replay: routing goes through the gateway strategies — prefix affinity raises the servers\' cache hits', () => {
  const roundRobin = replay(requests, { ...base, strategy: 'round-robin', rate: 4 });
  const affinity = replay(requests, { ...base, strategy: 'prefix-affinity', rate: 4 });
  // Follow-up turns find their conversation's earlier turn only on the server that served it.
  assert.ok(affinity.result.prefix_hit_rate > roundRobin.result.prefix_hit_rate + 0.05, `${affinity.result.prefix_hit_rate} vs ${roundRobin.result.prefix_hit_rate}`);
  assert.ok(affinity.result.max_share_vs_fair <= 1.5, `bounded load: ${affinity.result.max_share_vs_fair}`);
});

test('virtual fleet replay: a faster arrival rate queues more; capacity lies between a sustainable and an unsustainable probe', () => {
  const light = replay(requests, { ...base, strategy: 'round-robin', rate: 2 });
  const heavy = replay(requests, { ...base, strategy: 'round-robin', rate: 60 });
  assert.ok(heavy.result.ttft_p50_ms > light.result.ttft_p50_ms * 5, `${heavy.result.ttft_p50_ms} vs ${light.result.ttft_p50_ms}`);
  const { rate, probes } = measureCapacity(requests, base, { strategy: 'round-robin', ttftP50Ms: 1000, maxDrainSeconds: 30, steps: 4 });
  const at = probes.find((probe) => Math.abs(probe.rate - rate) < 1e-3);
  assert.ok(at?.sustainable, JSON.stringify(probes));
  assert.ok(probes.some((probe) => !probe.sustainable && probe.rate > rate), JSON.stringify(probes));
  for (const probe of probes) assert.equal(probe.sustainable, probe.rate <= rate + 1e-3, `probes agree with the bisection: ${JSON.stringify(probes)}`);
});
