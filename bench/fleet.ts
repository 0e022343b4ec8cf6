/**
 * `npm run bench:fleet`: a real trace (Azure LLM inference 2023) against a fleet of simulated
 * inference servers, once per routing strategy and load level, with the gateway's own routing
 * code. See docs/simulator.md.
 *
 * Modes (BENCH_FLEET_MODE): `virtual` (default) replays the trace in virtual time through the
 * gateway's strategies and fleet state (bench/fleet-virtual.ts): deterministic, thousands of
 * requests per run in seconds. `http` sends it through a real gateway process to HTTP servers
 * in real time (bench/fleet-http.ts), as a cross-check on a quiet machine.
 *
 * Load levels are shares of the fleet's capacity, measured in virtual time: the highest arrival
 * rate at which round-robin keeps TTFT p50 within BENCH_FLEET_CAPACITY_TTFT_P50_MS and its
 * backlog drains within 30 s of the last arrival (measureCapacity).
 *
 * Environment: BENCH_FLEET_MODE (virtual | http), BENCH_FLEET_TRACE (conv | code; default conv
 * in virtual mode, code in http mode), BENCH_FLEET_PROFILE (a100-llama3-8b), BENCH_FLEET_SERVERS
 * (4), BENCH_FLEET_START (offset into the trace, s), BENCH_FLEET_WINDOW (trace seconds replayed,
 * default 3600), BENCH_FLEET_SECONDS (http: seconds of scaled arrivals per run, default 20),
 * BENCH_FLEET_LOADS (0.5,0.8,0.95), BENCH_FLEET_STRATEGIES, BENCH_FLEET_SEED (prompts),
 * BENCH_FLEET_ROUTER_SEED (tie-breaks), BENCH_FLEET_SCRAPE_MS (250),
 * BENCH_FLEET_CAPACITY_TTFT_P50_MS (1000), BENCH_FLEET_CAPACITY (req/s, skips the measurement),
 * BENCH_FLEET_WEIGHTS (routing.weights for every alias, YAML flow, e.g. "{ work: 0 }").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../src/sim/stats.js';
import { CITATION, compare, loadTrace, readSettings, ROOT, table, traceRate, type RunResult } from './fleet-common.js';
import { runHttp } from './fleet-http.js';
import { machineInfo } from './lib/report.js';
import { measureCapacity, prepareRequests, replay, type CapacityProbe } from './fleet-virtual.js';

/** The strategy whose sustainable rate defines 100 % load: the baseline, which reads no metrics. */
const CAPACITY_STRATEGY = 'round-robin';
const CAPACITY_MAX_DRAIN_S = 30;
const CAPACITY_STEPS = 7;

async function main(): Promise<void> {
  const settings = readSettings();
  const trace = loadTrace(settings).filter((r) => r.at < settings.window);
  if (trace.length === 0) throw new Error('no trace requests in the window');
  const rateOfTrace = traceRate(trace, settings.window);
  const began = performance.now();
  const requests = prepareRequests(trace, settings.workload, settings.profile.engine.blockSize);
  const base = {
    profile: settings.profile,
    servers: settings.servers,
    traceRate: rateOfTrace,
    scrapeMs: settings.scrapeMs,
    routerSeed: settings.routerSeed,
    ...(settings.weights === undefined ? {} : { weights: settings.weights }),
  };
  process.stdout.write(
    `${CITATION}\nTrace ${settings.trace}, ${settings.start}–${settings.start + settings.window} s: ${trace.length} requests (${round(rateOfTrace, 2)} req/s); ${settings.servers} × ${settings.profile.name}; mode ${settings.mode}\n`,
  );
  if (settings.skipped.length > 0) process.stdout.write(`Skipped (not in this gateway's STRATEGIES): ${settings.skipped.join(', ')}\n`);

  let probes: CapacityProbe[] = [];
  let capacity = settings.capacity;
  if (capacity === null) {
    process.stdout.write(`Capacity (${CAPACITY_STRATEGY}, TTFT p50 ≤ ${settings.capacityTtftP50Ms} ms, drain ≤ ${CAPACITY_MAX_DRAIN_S} s):`);
    const measured = measureCapacity(requests, base, {
      strategy: CAPACITY_STRATEGY,
      ttftP50Ms: settings.capacityTtftP50Ms,
      maxDrainSeconds: CAPACITY_MAX_DRAIN_S,
      steps: CAPACITY_STEPS,
      onProbe: (probe) => process.stdout.write(` ${probe.rate}${probe.sustainable ? '✓' : '✗'}`),
    });
    capacity = measured.rate;
    probes = measured.probes;
    process.stdout.write(`\n`);
  }
  process.stdout.write(`Capacity: ${round(capacity, 2)} req/s\n`);

  const results: RunResult[] = [];
  const diagnostics: { strategy: string; load: number; drain_s: number; mean_waiting_spread: number; per_server: readonly number[] }[] = [];
  /** HTTP mode: the same requests at the same rates replayed in virtual time, side by side. */
  const virtualTwin: RunResult[] = [];
  if (settings.mode === 'http') {
    results.push(...(await runHttp(settings, trace, rateOfTrace, capacity)));
    for (const load of settings.loads) {
      const rate = load * capacity;
      const sent = requests.filter((r) => (r.at * rateOfTrace) / rate < settings.seconds);
      for (const strategy of settings.strategies) virtualTwin.push(replay(sent, { ...base, strategy, rate }, load).result);
    }
    process.stdout.write(`\nThe same requests in virtual time:\n${table(virtualTwin)}\n`);
  } else {
    for (const load of settings.loads) {
      for (const strategy of settings.strategies) {
        const run = replay(requests, { ...base, strategy, rate: load * capacity }, load);
        results.push(run.result);
        diagnostics.push({ strategy, load, drain_s: run.drainSeconds, mean_waiting_spread: run.meanWaitingSpread, per_server: run.perServer });
        process.stdout.write(`${table([run.result]).split('\n')[2]}\n`);
      }
    }
  }
  const elapsed = round((performance.now() - began) / 1000, 1);
  const headline = compare(results);
  const report = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    citation: CITATION,
    settings: { ...settings, profile: settings.profile.name },
    trace_requests: trace.length,
    trace_rate_rps: round(rateOfTrace, 3),
    capacity_rps: round(capacity, 3),
    capacity_method: { strategy: CAPACITY_STRATEGY, ttft_p50_ms: settings.capacityTtftP50Ms, max_drain_s: CAPACITY_MAX_DRAIN_S, probes },
    elapsed_s: elapsed,
    results,
    diagnostics,
    ...(virtualTwin.length > 0 ? { virtual_twin: virtualTwin } : {}),
    headline,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = join(ROOT, 'bench', 'results', `fleet-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\n${headline.text}\n${CITATION}\nTook ${elapsed} s. Results: ${out}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:fleet: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
