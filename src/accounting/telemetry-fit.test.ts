import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom as random } from '../sim/random.js';
import { fitEnergy, intervalsOf, type TelemetrySample } from './telemetry-fit.js';

interface Truth {
  readonly inputJ: number;
  readonly outputJ: number;
  readonly idleW: number;
}

/**
 * Scrapes every 5 s (±0.5 s jitter) of a GPU whose energy follows `truth`, with ±`noise` on the
 * power of each interval, under bursty traffic: idle now and then, prompt and output tokens
 * drawn independently.
 */
function series(truth: Truth, options: { seed: number; count?: number; noise?: number; traffic?: (rand: () => number) => [number, number] }): TelemetrySample[] {
  const rand = random(options.seed);
  const noise = options.noise ?? 0.03;
  const traffic =
    options.traffic ?? ((r: () => number): [number, number] => (r() < 0.15 ? [0, 0] : [Math.round(r() * 60_000), Math.round(r() * 12_000)]));
  const samples: TelemetrySample[] = [];
  let t = Date.UTC(2026, 10, 1);
  let energyJ = 1_234_567;
  let promptTokens = 10_000;
  let outputTokens = 5_000;
  samples.push({ t, energyJ, promptTokens, outputTokens });
  for (let i = 0; i < (options.count ?? 120); i++) {
    const dt = 5 + (rand() - 0.5);
    const [dp, dout] = traffic(rand);
    const exact = truth.inputJ * dp + truth.outputJ * dout + truth.idleW * dt;
    energyJ += exact * (1 + (rand() * 2 - 1) * noise);
    promptTokens += dp;
    outputTokens += dout;
    t += dt * 1000;
    samples.push({ t, energyJ, promptTokens, outputTokens });
  }
  return samples;
}

function within(actual: number, expected: number, share: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * share, `${what}: ${actual} vs ${expected} (±${share * 100}%)`);
}

const H100_8B: Truth = { inputJ: 0.03, outputJ: 0.12, idleW: 90 };

test('the fit recovers J per input token, J per output token and idle watts within 5% under ±3% power noise', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const fit = fitEnergy(series(H100_8B, { seed }));
    assert.ok(fit !== null, `seed ${seed}: a fit`);
    within(fit.inputJ, H100_8B.inputJ, 0.05, `seed ${seed} inputJ`);
    within(fit.outputJ, H100_8B.outputJ, 0.05, `seed ${seed} outputJ`);
    within(fit.idleW, H100_8B.idleW, 0.05, `seed ${seed} idleW`);
    assert.equal(fit.intervals, 120);
    assert.ok(fit.r2 > 0.95);
  }
  // Eight GPUs of a 70B model: bigger numbers, same recovery.
  const big: Truth = { inputJ: 0.4, outputJ: 1.1, idleW: 8 * 85 };
  const fit = fitEnergy(series(big, { seed: 9 }))!;
  within(fit.inputJ, big.inputJ, 0.05, 'inputJ');
  within(fit.outputJ, big.outputJ, 0.05, 'outputJ');
  within(fit.idleW, big.idleW, 0.05, 'idleW');
});

test('a counter that goes down starts a new segment: the interval across the reset is dropped', () => {
  const before = series(H100_8B, { seed: 11, count: 60 });
  const after = series(H100_8B, { seed: 12, count: 60 }).map((sample) => ({
    ...sample,
    t: sample.t + 400_000,
    // The exporter and the server restarted: every counter begins again near zero.
    energyJ: sample.energyJ - 1_234_000,
    promptTokens: sample.promptTokens - 10_000,
    outputTokens: sample.outputTokens - 5_000,
  }));
  const samples = [...before, ...after];
  assert.equal(intervalsOf(samples).joules.length, 120, '60 + 60 intervals, none across the reset');
  const fit = fitEnergy(samples)!;
  within(fit.inputJ, H100_8B.inputJ, 0.05, 'inputJ');
  within(fit.outputJ, H100_8B.outputJ, 0.05, 'outputJ');
  within(fit.idleW, H100_8B.idleW, 0.05, 'idleW');
  // Only the token counter reset (the inference server restarted, the GPU did not): dropped too.
  const serverRestart = [...before, ...after.map((sample) => ({ ...sample, energyJ: sample.energyJ + 1e9 }))];
  assert.equal(intervalsOf(serverRestart).joules.length, 120);
  // A sample marked as not continuing the previous one (a gap in integrated power) is dropped as well.
  const marked = before.map((sample, index) => (index === 30 ? { ...sample, reset: true } : sample));
  assert.equal(intervalsOf(marked).joules.length, 59);
});

test('no traffic in the window: no fit (the parametric model stays)', () => {
  assert.equal(fitEnergy(series(H100_8B, { seed: 21, traffic: () => [0, 0] })), null);
  // A couple of requests are not enough either.
  let calls = 0;
  assert.equal(fitEnergy(series(H100_8B, { seed: 22, traffic: () => (++calls % 40 === 0 ? [3000, 500] : [0, 0]) })), null);
});

test('degenerate windows give no fit: too few intervals, tokens in lockstep with time, a fixed prompt/output ratio', () => {
  assert.equal(fitEnergy(series(H100_8B, { seed: 31, count: 6 })), null);
  // Perfectly steady load: Δprompt and Δoutput proportional to Δt, so idle and per-token energy cannot be told apart.
  const steady = series(H100_8B, { seed: 32, traffic: () => [40_000, 8_000] }).map((sample, index) => ({ ...sample, t: Date.UTC(2026, 10, 1) + index * 5_000 }));
  assert.equal(fitEnergy(steady), null);
  // Prompt always four times the output: a and b cannot be separated.
  assert.equal(fitEnergy(series(H100_8B, { seed: 33, traffic: (r) => { const out = Math.round(r() * 10_000); return [4 * out, out]; } })), null);
  assert.equal(fitEnergy([]), null);
});

test('coefficients stay non-negative: a true zero is clamped and the rest refitted', () => {
  const prefillFree: Truth = { inputJ: 0, outputJ: 0.12, idleW: 90 };
  for (const seed of [41, 42, 43, 44]) {
    const fit = fitEnergy(series(prefillFree, { seed }))!;
    assert.ok(fit.inputJ >= 0 && fit.outputJ >= 0 && fit.idleW >= 0);
    assert.ok(fit.inputJ < 0.002, `inputJ ${fit.inputJ}`);
    within(fit.outputJ, 0.12, 0.05, 'outputJ');
    within(fit.idleW, 90, 0.05, 'idleW');
  }
  // With no noise the fit is exact.
  const exact = fitEnergy(series(H100_8B, { seed: 45, noise: 0 }))!;
  within(exact.inputJ, 0.03, 1e-6, 'inputJ');
  within(exact.outputJ, 0.12, 1e-6, 'outputJ');
  within(exact.idleW, 90, 1e-6, 'idleW');
});
