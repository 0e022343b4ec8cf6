import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { Engine, type FinishedRequest } from './engine.js';
import { blockHashes } from './prompt-blocks.js';
import { PROFILES, type EngineParams } from './profiles.js';
import { randomInt, seededRandom, type Random } from './random.js';

/** A small server so that random workloads fill its KV cache and queue often. */
const SMALL: EngineParams = { ...PROFILES['h100-llama3-8b']!.engine, kvCapacityTokens: 4_096, maxNumSeqs: 16, maxBatchedTokens: 512, maxModelLen: 4_096 };

interface Submitted {
  readonly id: string;
  readonly promptTokens: number;
  readonly outputTokens: number;
  admittedOrder?: number;
  result?: FinishedRequest;
}

/** Prompts share one of a few prefixes, so the prefix cache is exercised too. */
function randomPrompt(random: Random, prefixes: number[][]): number[] {
  const prefix = prefixes[randomInt(random, 0, prefixes.length - 1)]!.slice(0, randomInt(random, 0, 400));
  const own = Array.from({ length: randomInt(random, 1, 600) }, () => randomInt(random, 0, 50_000));
  return [...prefix, ...own];
}

function runRandomWorkload(seed: number, count: number) {
  const random = seededRandom(seed);
  const clock = new VirtualClock();
  const engine = new Engine(SMALL, clock);
  const prefixes = Array.from({ length: 4 }, () => Array.from({ length: 400 }, () => randomInt(random, 0, 50_000)));
  const submitted: Submitted[] = [];
  let time = 0;
  for (let i = 0; i < count; i++) {
    time += random() * 0.05;
    const tokens = randomPrompt(random, prefixes);
    const entry: Submitted = { id: `r${i}`, promptTokens: tokens.length, outputTokens: randomInt(random, 1, 300) };
    submitted.push(entry);
    clock.at(time, () => {
      const result = engine.submit({
        id: entry.id,
        promptTokens: entry.promptTokens,
        blockHashes: blockHashes(tokens, SMALL.blockSize),
        outputTokens: entry.outputTokens,
        listener: { onFinish: (done) => (entry.result = done) },
      });
      assert.ok(result.ok);
    });
  }
  let maxStored = 0;
  while (clock.runNext()) {
    assert.ok(engine.kv.storedBlocks <= engine.kv.totalBlocks, `stored ${engine.kv.storedBlocks} > ${engine.kv.totalBlocks} blocks`);
    assert.ok(engine.kv.usedBlocks >= 0);
    assert.ok(engine.runningCount <= SMALL.maxNumSeqs);
    maxStored = Math.max(maxStored, engine.kv.storedBlocks);
  }
  return { engine, submitted, maxStored };
}

test('random workloads in virtual time: KV capacity holds, tokens are conserved, admission is FIFO', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const { engine, submitted, maxStored } = runRandomWorkload(seed, 250);
    // The workload really pressed on the cache (else the capacity check proves nothing).
    assert.ok(maxStored > engine.kv.totalBlocks * 0.9, `seed ${seed}: the cache never filled (${maxStored})`);
    let prompt = 0;
    let output = 0;
    let computed = 0;
    let cached = 0;
    for (const entry of submitted) {
      const result = entry.result;
      assert.ok(result !== undefined, `seed ${seed}: ${entry.id} never finished`);
      assert.equal(result.cachedTokens + result.computedTokens, entry.promptTokens);
      assert.equal(result.outputTokens, entry.outputTokens);
      assert.ok(result.arrival <= result.admitted && result.admitted < result.firstToken && result.firstToken <= result.finish);
      prompt += entry.promptTokens;
      output += entry.outputTokens;
      computed += result.computedTokens;
      cached += result.cachedTokens;
    }
    assert.equal(engine.counters.promptTokens, prompt);
    assert.equal(engine.counters.computedPromptTokens, computed);
    assert.equal(engine.counters.prefixHitTokens, cached);
    assert.equal(engine.counters.generationTokens, output);
    assert.equal(engine.counters.finished, submitted.length);
    assert.ok(cached > 0, `seed ${seed}: no prefix hits at all`);
    // FIFO: in arrival order, nobody is admitted before someone who came earlier.
    for (let i = 1; i < submitted.length; i++) {
      assert.ok(submitted[i]!.result!.admitted >= submitted[i - 1]!.result!.admitted, `seed ${seed}: ${submitted[i]!.id} admitted before ${submitted[i - 1]!.id}`);
    }
    // Everything done: every block is free again (cached blocks may stay, unreferenced).
    assert.equal(engine.kv.usedBlocks, 0);
    assert.equal(engine.runningCount + engine.waitingCount, 0);
  }
});

test('a request waits while the KV cache cannot hold it, and runs once blocks are freed', () => {
  const clock = new VirtualClock();
  const engine = new Engine(SMALL, clock);
  const done: FinishedRequest[] = [];
  // Each needs 2,560 of the 4,096 tokens: the second must wait for the first to finish.
  for (const id of ['a', 'b']) {
    engine.submit({ id, promptTokens: 2_000, blockHashes: [], outputTokens: 560, listener: { onFinish: (r) => done.push(r) } });
  }
  clock.run();
  const [a, b] = done;
  assert.equal(a!.id, 'a');
  assert.ok(b!.admitted >= a!.finish, `b admitted at ${b!.admitted}, a finished at ${a!.finish}`);
});

test('a cached prefix makes the first token come sooner', () => {
  const clock = new VirtualClock();
  const engine = new Engine(PROFILES['l4-llama3-8b']!.engine, clock);
  const tokens = Array.from({ length: 3_000 }, (_, i) => (i * 7919) % 100_000);
  const hashes = blockHashes(tokens, 16);
  const results: FinishedRequest[] = [];
  const send = (id: string) => engine.submit({ id, promptTokens: tokens.length, blockHashes: hashes, outputTokens: 5, listener: { onFinish: (r) => results.push(r) } });
  send('cold');
  clock.run();
  send('warm');
  clock.run();
  const [cold, warm] = results;
  assert.equal(cold!.cachedTokens, 0);
  assert.equal(warm!.cachedTokens, 2_992); // all full blocks but the last token's
  const ttft = (r: FinishedRequest) => r.firstToken - r.arrival;
  assert.ok(ttft(warm!) < ttft(cold!) / 5, `warm ${ttft(warm!)} vs cold ${ttft(cold!)}`);
  assert.equal(engine.counters.prefixHitTokens, 2_992);
  assert.equal(engine.counters.prefixQueryTokens, 6_000);
});

test('a decode step takes longer with a bigger batch', () => {
  const perToken = (batch: number) => {
    const clock = new VirtualClock();
    const engine = new Engine(PROFILES['h100-llama3-8b']!.engine, clock);
    const results: FinishedRequest[] = [];
    for (let i = 0; i < batch; i++) engine.submit({ id: `r${i}`, promptTokens: 1_000, blockHashes: [], outputTokens: 101, listener: { onFinish: (r) => results.push(r) } });
    clock.run();
    return (results[0]!.finish - results[0]!.firstToken) / 100;
  };
  const one = perToken(1);
  const many = perToken(128);
  assert.ok(one > 0.005 && one < 0.012, `one sequence: ${one * 1000} ms per token`);
  assert.ok(many > one * 1.5, `128 sequences: ${many * 1000} ms vs ${one * 1000} ms per token`);
});

test('requests that can never run are refused with a reason', () => {
  const engine = new Engine(SMALL, new VirtualClock());
  const tooLong = engine.submit({ id: 'x', promptTokens: 4_000, blockHashes: [], outputTokens: 200 });
  assert.equal(tooLong.ok, false);
  assert.match(!tooLong.ok ? tooLong.reason : '', /exceed the model's context of 4096/);
  assert.equal(engine.submit({ id: 'y', promptTokens: 0, blockHashes: [], outputTokens: 1 }).ok, false);
});

test('an aborted request frees its blocks', () => {
  const clock = new VirtualClock();
  const engine = new Engine(SMALL, clock);
  engine.submit({ id: 'long', promptTokens: 100, blockHashes: [], outputTokens: 3_000 });
  clock.run(0.1);
  assert.equal(engine.runningCount, 1);
  assert.ok(engine.kv.usedBlocks > 0);
  assert.equal(engine.abort('long'), true);
  assert.equal(engine.kv.usedBlocks, 0);
  assert.equal(engine.abort('long'), false);
  clock.run();
  assert.equal(engine.counters.aborted, 1);
});
