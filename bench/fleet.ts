/**
 * `npm run bench:fleet`: a real trace (Azure LLM inference 2023) replayed through the Stellwerk
 * gateway against a fleet of simulated inference servers, once per routing strategy and load
 * level. See docs/simulator.md.
 *
 * Environment: BENCH_FLEET_TRACE (code | conv, default code), BENCH_FLEET_PROFILE (default
 * a100-llama3-8b), BENCH_FLEET_SERVERS (default 4), BENCH_FLEET_SECONDS (seconds of arrivals per
 * run, default 20), BENCH_FLEET_START (offset into the trace in seconds, default 0),
 * BENCH_FLEET_LOADS (shares of fleet capacity, default 0.5,0.8,0.95), BENCH_FLEET_STRATEGIES
 * (default: round-robin, least-queue, kv-aware, prefix-affinity, fleet, those the
 * gateway knows), BENCH_FLEET_SEED (prompt generator, default 1).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { parseConfig } from '../src/config/load.js';
import { STRATEGIES } from '../src/config/schema.js';
import { planRequests, saturatedThroughput } from '../src/sim/planner.js';
import { findProfile, type SimProfile } from '../src/sim/profiles.js';
import { startSimServers, type SimServer } from '../src/sim/server.js';
import { percentile, round } from '../src/sim/stats.js';
import { readTrace, type TraceRequest } from '../src/sim/trace.js';
import { DEFAULT_WORKLOAD, WorkloadGenerator, type WorkloadOptions } from '../src/sim/workload.js';
import { ChildProcesses, freePort, waitUntilReady } from './lib/children.js';
import { machineInfo } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRACE_DIR = join(ROOT, '..', 'shared', 'data', 'azure-llm-inference-2023');
const WANTED = ['round-robin', 'least-queue', 'kv-aware', 'prefix-affinity', 'fleet'];
const CITATION =
  'Trace: Azure LLM inference trace 2023 (Azure/AzurePublicDataset, CC-BY 4.0), from Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting", ISCA 2024.';

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function envNumber(name: string, fallback: number, min: number): number {
  const value = Number(env(name, String(fallback)));
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
  return value;
}

interface Settings {
  readonly trace: 'code' | 'conv';
  readonly profile: SimProfile;
  readonly servers: number;
  readonly seconds: number;
  readonly start: number;
  readonly loads: number[];
  readonly strategies: string[];
  readonly skipped: string[];
  readonly workload: WorkloadOptions;
}

function readSettings(): Settings {
  const trace = env('BENCH_FLEET_TRACE', 'code');
  if (trace !== 'code' && trace !== 'conv') throw new Error('BENCH_FLEET_TRACE must be code or conv');
  const known = new Set<string>(STRATEGIES);
  const asked = env('BENCH_FLEET_STRATEGIES', WANTED.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    trace,
    profile: findProfile(env('BENCH_FLEET_PROFILE', 'a100-llama3-8b')),
    servers: Math.round(envNumber('BENCH_FLEET_SERVERS', 4, 1)),
    seconds: envNumber('BENCH_FLEET_SECONDS', 20, 1),
    start: envNumber('BENCH_FLEET_START', 0, 0),
    loads: env('BENCH_FLEET_LOADS', '0.5,0.8,0.95').split(',').map(Number),
    strategies: asked.filter((s) => known.has(s)),
    skipped: asked.filter((s) => !known.has(s)),
    workload: { ...DEFAULT_WORKLOAD, seed: Math.round(envNumber('BENCH_FLEET_SEED', 1, 0)) },
  };
}

/** One deployment per server; `kind`/`metrics_url` only when this gateway's config knows them. */
function gatewayConfig(settings: Settings, urls: readonly string[], port: number, dir: string): string {
  const deployment = (strategy: string, url: string, i: number, fleetFields: boolean) =>
    `      - { provider: openai-compatible, name: ${strategy}/sim-${i + 1}, base_url: ${url}, model: ${settings.profile.model.id}, max_connections: 1024${fleetFields ? `, kind: self-hosted, metrics_url: ${url.replace(/\/v1$/, '/metrics')}` : ''} }`;
  const build = (fleetFields: boolean) =>
    `server: { port: ${port} }\nlogging: { level: warn }\ngovernance: { sqlite_path: ${join(dir, 'stellwerk.db')} }\nresilience: { retry: { attempts: 1 } }\nmodels:\n` +
    settings.strategies.map((strategy) => `  - name: fleet-${strategy}\n    routing: { strategy: ${strategy} }\n    deployments:\n${urls.map((url, i) => deployment(strategy, url, i, fleetFields)).join('\n')}\n`).join('');
  try {
    parseConfig(build(true), 'fleet.yaml', {});
    return build(true);
  } catch {
    return build(false);
  }
}

interface Outcome {
  readonly ttft: number;
  readonly e2e: number;
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly outputTokens: number;
}

/** Counters a server's /metrics shows, by name (one model per server, so no label matching). */
async function scrape(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url.replace(/\/v1$/, '/metrics'))).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(vllm:[a-z_:]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match !== null) values[match[1]!] = Number(match[2]);
  }
  return values;
}

async function send(client: OpenAI, model: string, prompt: ReturnType<WorkloadGenerator['next']>): Promise<Outcome> {
  const started = performance.now();
  let first = 0;
  let usage: OpenAI.CompletionUsage | undefined;
  const stream = await client.chat.completions.create({
    model,
    messages: prompt.messages.map(({ role, content }) => ({ role, content })),
    max_tokens: prompt.outputTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (first === 0 && chunk.choices[0]?.delta.content) first = performance.now();
    if (chunk.usage) usage = chunk.usage;
  }
  const end = performance.now();
  return {
    ttft: (first - started) / 1000,
    e2e: (end - started) / 1000,
    promptTokens: usage?.prompt_tokens ?? 0,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
  };
}

interface RunResult {
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

async function runOnce(servers: readonly SimServer[], urls: readonly string[], settings: Settings, gatewayUrl: string, strategy: string, load: number, requests: readonly TraceRequest[], rate: number): Promise<RunResult> {
  for (const server of servers) server.reset();
  {
    const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: 'bench', maxRetries: 0, timeout: 600_000 });
    const generator = new WorkloadGenerator(settings.workload);
    const outcomes: Outcome[] = [];
    let failed = 0;
    let firstError: string | undefined;
    const inFlight: Promise<void>[] = [];
    const t0 = performance.now();
    const began = performance.now();
    for (const request of requests) {
      const prompt = generator.next(request);
      const wait = t0 + request.at * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(
        send(client, `fleet-${strategy}`, prompt).then(
          (outcome) => void outcomes.push(outcome),
          (error: unknown) => {
            failed++;
            firstError ??= (error as Error).message;
          },
        ),
      );
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - began) / 1000;
    const counters = await Promise.all(urls.map(scrape));
    const finished = counters.map((c) => c['vllm:request_success_total'] ?? 0);
    const queries = counters.reduce((sum, c) => sum + (c['vllm:prefix_cache_queries_total'] ?? 0), 0);
    const hits = counters.reduce((sum, c) => sum + (c['vllm:prefix_cache_hits_total'] ?? 0), 0);
    const total = finished.reduce((a, b) => a + b, 0);
    const ms = (values: number[], p: number) => Math.round(percentile(values, p) * 1000);
    return {
      strategy,
      load,
      rate_rps: round(rate, 2),
      requests: requests.length,
      failed,
      ttft_p50_ms: ms(outcomes.map((o) => o.ttft), 50),
      ttft_p99_ms: ms(outcomes.map((o) => o.ttft), 99),
      e2e_p50_ms: ms(outcomes.map((o) => o.e2e), 50),
      e2e_p99_ms: ms(outcomes.map((o) => o.e2e), 99),
      throughput_rps: round(outcomes.length / elapsed, 2),
      output_tokens_per_s: Math.round(outcomes.reduce((sum, o) => sum + o.outputTokens, 0) / elapsed),
      prefix_hit_rate: round(queries > 0 ? hits / queries : 0, 3),
      max_share_vs_fair: round(total > 0 ? Math.max(...finished) / (total / servers.length) : 0, 2),
      ...(firstError === undefined ? {} : { first_error: firstError }),
    };
  }
}

function table(results: readonly RunResult[]): string {
  const head = '| strategy | load | req/s | TTFT p50 ms | TTFT p99 ms | e2e p50 ms | e2e p99 ms | done req/s | out tok/s | cache hit | max share | failed |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map((r) => `| ${r.strategy} | ${Math.round(r.load * 100)}% | ${r.rate_rps} | ${r.ttft_p50_ms} | ${r.ttft_p99_ms} | ${r.e2e_p50_ms} | ${r.e2e_p99_ms} | ${r.throughput_rps} | ${r.output_tokens_per_s} | ${Math.round(r.prefix_hit_rate * 100)}% | ${r.max_share_vs_fair}× | ${r.failed} |`);
  return [head, rule, ...rows].join('\n');
}

async function main(): Promise<void> {
  const settings = readSettings();
  const file = join(TRACE_DIR, `AzureLLMInferenceTrace_${settings.trace}.csv`);
  const maxLen = settings.profile.engine.maxModelLen;
  const trace = readTrace(file).filter((r) => r.at >= settings.start && r.promptTokens + r.outputTokens <= maxLen);
  // Capacity: what one server sustains on this request mix in virtual time, times the fleet size.
  const sample = trace.slice(0, 600).map((r) => ({ ...r, at: r.at - settings.start }));
  const perServer = saturatedThroughput(planRequests(sample, settings.profile.engine.blockSize, settings.workload), settings.profile.engine);
  const capacity = perServer * settings.servers;
  const traceRate = sample.length / Math.max(1e-9, sample.at(-1)!.at - sample[0]!.at);
  process.stdout.write(`${CITATION}\nTrace ${settings.trace} from ${settings.start} s (${round(traceRate, 2)} req/s); ${settings.servers} × ${settings.profile.name}; capacity ≈ ${round(capacity, 2)} req/s (${round(perServer, 2)} per server, virtual time)\n`);
  if (settings.skipped.length > 0) process.stdout.write(`Skipped (not in this gateway's STRATEGIES): ${settings.skipped.join(', ')}\n`);

  const tmp = mkdtempSync(join(tmpdir(), 'stellwerk-bench-fleet-'));
  const children = new ChildProcesses();
  const stop = () => children.killAllNow();
  process.once('SIGINT', stop);
  const results: RunResult[] = [];
  // The servers live in this process for the whole bench; each run resets them (runOnce).
  const { servers, urls } = await startSimServers({ profile: settings.profile }, settings.servers, 0);
  try {
    const gatewayPort = await freePort();
    const configPath = join(tmp, 'fleet.yaml');
    writeFileSync(configPath, gatewayConfig(settings, urls, gatewayPort, tmp));
    const gateway = children.start({ name: 'stellwerk', nodeArgs: ['--import', import.meta.resolve('tsx')], script: join(ROOT, 'src/cli/main.ts'), args: ['start', '--config', configPath], port: gatewayPort, stdoutPath: join(tmp, 'gateway.log'), stderrPath: join(tmp, 'gateway.err'), cwd: tmp });
    await waitUntilReady(gateway, `${gateway.baseUrl}/healthz`, (status) => status === 200, 60_000);
    for (const load of settings.loads) {
      const rate = load * capacity;
      const scale = traceRate / rate;
      const requests = trace.map((r) => ({ ...r, at: (r.at - settings.start) * scale })).filter((r) => r.at < settings.seconds);
      for (const strategy of settings.strategies) {
        const result = await runOnce(servers, urls, settings, gateway.baseUrl, strategy, load, requests, rate).catch((error: unknown) => {
          throw new Error(`${strategy} at ${load}: ${(error as Error).message}`);
        });
        results.push(result);
        process.stdout.write(`${table([result]).split('\n')[2]}\n`);
      }
    }
  } finally {
    await children.stopAll();
    await Promise.all(servers.map((server) => server.close()));
    rmSync(tmp, { recursive: true, force: true });
  }
  const headline = compare(results);
  const report = { date: new Date().toISOString(), machine: machineInfo(), citation: CITATION, settings: { ...settings, profile: settings.profile.name }, capacity_rps: round(capacity, 2), results, headline };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = join(ROOT, 'bench', 'results', `fleet-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\n${headline.text}\n${CITATION}\nResults: ${out}\n`);
}

/** The headline: at 80 % load, the best strategy's TTFT p99 against round-robin's. */
function compare(results: readonly RunResult[]): { text: string; best?: string; reduction?: number } {
  const at80 = results.filter((r) => Math.abs(r.load - 0.8) < 1e-9 && r.failed === 0);
  const baseline = at80.find((r) => r.strategy === 'round-robin');
  const others = at80.filter((r) => r.strategy !== 'round-robin');
  if (baseline === undefined || others.length === 0) return { text: 'Headline: needs round-robin and another strategy at 80 % load.' };
  const best = others.reduce((a, b) => (b.ttft_p99_ms < a.ttft_p99_ms ? b : a));
  const reduction = 1 - best.ttft_p99_ms / baseline.ttft_p99_ms;
  const verdict = reduction >= 0.3 && best.max_share_vs_fair <= 1.5 ? 'meets' : 'misses';
  return {
    best: best.strategy,
    reduction: round(reduction, 3),
    text: `Headline (80 % load): ${best.strategy} TTFT p99 ${best.ttft_p99_ms} ms vs round-robin ${baseline.ttft_p99_ms} ms: ${Math.abs(Math.round(reduction * 100))} % ${reduction >= 0 ? 'lower' : 'higher'}, busiest server ${best.max_share_vs_fair}× its fair share — ${verdict} the target (≥ 30 % lower, ≤ 1.5×).`,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:fleet: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
