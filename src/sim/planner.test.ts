import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCapacity, planRequests, saturatedThroughput, simulateFleet } from './planner.js';
import { findProfile } from './profiles.js';
import { parseTrace, traceWindow } from './trace.js';
import { DEFAULT_WORKLOAD, WorkloadGenerator } from './workload.js';
import { parseChatRequest } from './chat-request.js';

const L4 = findProfile('l4-llama3-8b').engine;

/** Evenly spaced identical requests at 1.5 × what one L4 server sustains: one cannot carry them, two can. */
function overOneServer() {
  const capacity = saturatedThroughput(planRequests(Array.from({ length: 300 }, () => ({ at: 0, promptTokens: 1_000, outputTokens: 50 })), L4.blockSize, null), L4);
  assert.ok(capacity > 1 && capacity < 5, `one L4 sustains ${capacity} req/s`);
  const rate = 1.5 * capacity;
  return planRequests(Array.from({ length: 400 }, (_, i) => ({ at: i / rate, promptTokens: 1_000, outputTokens: 50 })), L4.blockSize, null);
}

test('the plan finds that one server cannot carry 1.5 × its capacity and two can', () => {
  const requests = overOneServer();
  const runs: number[] = [];
  const result = planCapacity(requests, L4, { sloTtftP99: 2, maxServers: 4, policy: 'least-queue', onRun: (run) => runs.push(run.servers) });
  assert.equal(result.servers, 2);
  assert.deepEqual(runs, [1, 2]);
  const [one, two] = result.runs;
  assert.ok(one!.ttftP99 > 10, `one server: TTFT p99 ${one!.ttftP99} s (the queue grows)`);
  assert.ok(two!.ttftP99 < 1, `two servers: TTFT p99 ${two!.ttftP99} s`);
  assert.ok(one!.utilisation > two!.utilisation);
  assert.equal(planCapacity(requests, L4, { sloTtftP99: 2, maxServers: 1, policy: 'least-queue' }).servers, undefined);
});

test('least-queue spreads requests of very different lengths better than round-robin', () => {
  // Every 4th request is long; round-robin sends them all to the same server of four.
  const trace = Array.from({ length: 400 }, (_, i) => ({ at: i * 0.25, promptTokens: i % 4 === 0 ? 6_000 : 200, outputTokens: i % 4 === 0 ? 400 : 20 }));
  const requests = planRequests(trace, L4.blockSize, null);
  const roundRobin = simulateFleet(requests, L4, 4, 'round-robin');
  const leastQueue = simulateFleet(requests, L4, 4, 'least-queue');
  assert.ok(leastQueue.ttftP99 < roundRobin.ttftP99, `least-queue ${leastQueue.ttftP99} s vs round-robin ${roundRobin.ttftP99} s`);
});

test('traces: Azure date-times and plain seconds, sorted and relative to the first request', () => {
  const trace = parseTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47.5,10,0\n2023-11-16 18:15:46.25,374,44\n');
  assert.deepEqual(trace, [
    { at: 0, promptTokens: 374, outputTokens: 44 },
    { at: 1.25, promptTokens: 10, outputTokens: 1 },
  ]);
  assert.deepEqual(traceWindow(parseTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n0,1,1\n5,2,2\n12,3,3\n'), 4, 6), [{ at: 1, promptTokens: 2, outputTokens: 2 }]);
  assert.throws(() => parseTrace('a,b\n'), /header/);
  assert.throws(() => parseTrace('TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,1\n'), /line 2: "yesterday"/);
  assert.throws(() => parseTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n1,-3,1\n'), /ContextTokens must be an integer >= 1/);
});

test('generated prompts have exactly the trace’s token counts and share prefixes', () => {
  const generator = new WorkloadGenerator({ ...DEFAULT_WORKLOAD, seed: 7 });
  let followUps = 0;
  const firstBlocks = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const context = 50 + ((i * 997) % 3_000);
    const prompt = generator.next({ at: i, promptTokens: context, outputTokens: 30 });
    // The server's own count of the request it will receive.
    const seen = parseChatRequest({ model: 'm', messages: prompt.messages.map(({ role, content }) => ({ role, content })) }, 1);
    assert.equal(seen.tokens.length, context);
    assert.deepEqual(seen.tokens, prompt.tokens);
    if (prompt.turn > 1) followUps++;
    firstBlocks.add(prompt.tokens.slice(0, 16).join());
  }
  assert.ok(followUps > 20, `${followUps} follow-ups`);
  // 20 tenants' system prompts: far fewer distinct first blocks than requests.
  assert.ok(firstBlocks.size <= 20, `${firstBlocks.size} distinct first blocks`);
});
