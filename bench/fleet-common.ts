/**
 * What both modes of `npm run bench:fleet` share: the trace, the settings from the environment,
 * the result rows, the table and the headline. See docs/simulator.md.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STRATEGIES } from '../src/config/schema.js';
import { findProfile, type SimProfile } from '../src/sim/profiles.js';
import { round } from '../src/sim/stats.js';
import { readTrace, type TraceRequest } from '../src/sim/trace.js';
import { DEFAULT_WORKLOAD, type WorkloadOptions } from '../src/sim/workload.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TRACE_DIR = join(ROOT, '..', 'shared', 'data', 'azure-llm-inference-2023');
export const WANTED = ['round-robin', 'least-queue', 'kv-aware', 'prefix-affinity', 'least-work', 'fleet'];
export const CITATION =
  'Trace: Azure LLM inference trace 2023 (Azure/AzurePublicDataset, CC-BY 4.0), from Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.';

export function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envNumber(name: string, fallback: number, min: number): number {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}

export interface Settings {
  readonly mode: 'virtual' | 'http';
  readonly trace: 'code' | 'conv';
  readonly profile: SimProfile;
  readonly servers: number;
  /** Offset into the trace, trace seconds. */
  readonly start: number;
  /** Virtual mode: seconds of the trace replayed (time-scaled to each load). */
  readonly window: number;
  /** HTTP mode: seconds of (scaled) arrivals per run. */
  readonly seconds: number;
  readonly loads: number[];
  readonly strategies: string[];
  readonly skipped: string[];
  readonly workload: WorkloadOptions;
  /** Seeds the gateway's random tie-breaks in virtual mode (Math.random is replaced during a run). */
  readonly routerSeed: number;
  /** Virtual mode: the gateway's scrape interval, ms of virtual time. */
  readonly scrapeMs: number;
  /** Capacity: a rate is sustainable while TTFT p50 stays within this many ms (virtual mode). */
  readonly capacityTtftP50Ms: number;
  /** A fixed capacity (req/s) instead of measuring it; HTTP mode requires it or measures in virtual time. */
  readonly capacity: number | null;
  /** `routing.weights` for every strategy's alias, as YAML flow (BENCH_FLEET_WEIGHTS, e.g. `{ work: 0 }`). */
  readonly weights?: string;
}

export function readSettings(): Settings {
  const mode = env('BENCH_FLEET_MODE', 'virtual');
  if (mode !== 'virtual' && mode !== 'http') throw new Error('BENCH_FLEET_MODE must be virtual or http');
  // HTTP mode defaults to the code trace (short answers: few SSE chunks for a small machine).
  const trace = env('BENCH_FLEET_TRACE', mode === 'http' ? 'code' : 'conv');
  if (trace !== 'code' && trace !== 'conv') throw new Error('BENCH_FLEET_TRACE must be code or conv');
  const known = new Set<string>(STRATEGIES);
  const asked = env('BENCH_FLEET_STRATEGIES', WANTED.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '');
  const capacity = env('BENCH_FLEET_CAPACITY', '');
  const weights = env('BENCH_FLEET_WEIGHTS', '');
  if (weights !== '' && !/^\{[a-z0-9.,:\s]*\}$/.test(weights)) throw new Error('BENCH_FLEET_WEIGHTS must be a YAML flow map such as "{ work: 0 }"');
  return {
    mode,
    trace,
    profile: findProfile(env('BENCH_FLEET_PROFILE', 'a100-llama3-8b')),
    servers: Math.round(envNumber('BENCH_FLEET_SERVERS', 4, 1)),
    start: envNumber('BENCH_FLEET_START', 0, 0),
    window: envNumber('BENCH_FLEET_WINDOW', 3600, 1),
    seconds: envNumber('BENCH_FLEET_SECONDS', 20, 1),
    loads: env('BENCH_FLEET_LOADS', '0.5,0.8,0.95').split(',').map(Number),
    strategies: asked.filter((s) => known.has(s)),
    skipped: asked.filter((s) => !known.has(s)),
    workload: { ...DEFAULT_WORKLOAD, seed: Math.round(envNumber('BENCH_FLEET_SEED', 1, 0)) },
    routerSeed: Math.round(envNumber('BENCH_FLEET_ROUTER_SEED', 1, 0)),
    scrapeMs: envNumber('BENCH_FLEET_SCRAPE_MS', 250, 1),
    capacityTtftP50Ms: envNumber('BENCH_FLEET_CAPACITY_TTFT_P50_MS', 1000, 1),
    capacity: capacity === '' ? null : envNumber('BENCH_FLEET_CAPACITY', 0, 0.001),
    ...(weights === '' ? {} : { weights }),
  };
}

/** The trace from `start` on, times relative to it, without requests no server of the profile can hold. */
export function loadTrace(settings: Settings): TraceRequest[] {
  const file = join(TRACE_DIR, `AzureLLMInferenceTrace_${settings.trace}.csv`);
  const maxLen = settings.profile.engine.maxModelLen;
  return readTrace(file)
    .filter((r) => r.at >= settings.start && r.promptTokens + r.outputTokens <= maxLen)
    .map((r) => ({ ...r, at: r.at - settings.start }));
}

/** The trace's own mean arrival rate over its first `seconds` (req/s). */
export function traceRate(trace: readonly TraceRequest[], seconds: number): number {
  const inWindow = trace.filter((r) => r.at < seconds);
  return inWindow.length / Math.max(1e-9, Math.min(seconds, inWindow.at(-1)?.at ?? 0));
}

export interface RunResult {
  readonly strategy: string;
  readonly load: number;
  readonly rate_rps: number;
  readonly requests: number;
  readonly failed: number;
  readonly ttft_p50_ms: number;
  readonly ttft_p99_ms: number;
  readonly e2e_p50_ms: number;
  readonly e2e_p99_ms: number;
  readonly throughput_rps: number;
  readonly output_tokens_per_s: number;
  readonly prefix_hit_rate: number;
  /** The busiest server's requests over the fair share (1 = even). */
  readonly max_share_vs_fair: number;
  readonly first_error?: string;
}

export function table(results: readonly RunResult[]): string {
  const head = '| strategy | load | req/s | TTFT p50 ms | TTFT p99 ms | e2e p50 ms | e2e p99 ms | done req/s | out tok/s | cache hit | max share | failed |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map((r) => `| ${r.strategy} | ${Math.round(r.load * 100)}% | ${r.rate_rps} | ${r.ttft_p50_ms} | ${r.ttft_p99_ms} | ${r.e2e_p50_ms} | ${r.e2e_p99_ms} | ${r.throughput_rps} | ${r.output_tokens_per_s} | ${Math.round(r.prefix_hit_rate * 100)}% | ${r.max_share_vs_fair}× | ${r.failed} |`);
  return [head, rule, ...rows].join('\n');
}

/** The headline: at 80 % load, the best strategy (within the share bound) against round-robin's TTFT p99. */
export function compare(results: readonly RunResult[]): { text: string; best?: string; reduction?: number; meets?: boolean } {
  const at80 = results.filter((r) => Math.abs(r.load - 0.8) < 1e-9 && r.failed === 0);
  const baseline = at80.find((r) => r.strategy === 'round-robin');
  const others = at80.filter((r) => r.strategy !== 'round-robin');
  if (baseline === undefined || others.length === 0) return { text: 'Headline: needs round-robin and another strategy at 80 % load.' };
  const fair = others.filter((r) => r.max_share_vs_fair <= 1.5);
  const best = (fair.length > 0 ? fair : others).reduce((a, b) => (b.ttft_p99_ms < a.ttft_p99_ms ? b : a));
  const reduction = 1 - best.ttft_p99_ms / baseline.ttft_p99_ms;
  const meets = reduction >= 0.3 && best.max_share_vs_fair <= 1.5;
  return {
    best: best.strategy,
    reduction: round(reduction, 3),
    meets,
    text: `Headline (80 % load): ${best.strategy} TTFT p99 ${best.ttft_p99_ms} ms vs round-robin ${baseline.ttft_p99_ms} ms: ${Math.abs(Math.round(reduction * 100))} % ${reduction >= 0 ? 'lower' : 'higher'}, busiest server ${best.max_share_vs_fair}× its fair share — ${meets ? 'meets' : 'misses'} the target (≥ 30 % lower, ≤ 1.5×).`,
  };
}
