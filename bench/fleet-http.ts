/**
 * `BENCH_FLEET_MODE=http`: the fleet benchmark in real time, as a cross-check of the virtual-time
 * replay: the trace through the Stellwerk gateway (a child process) to simulated servers behind
 * HTTP in this process, streamed with the OpenAI SDK. Needs an idle machine: the servers, the
 * gateway and the client all run in real time on the same CPUs. See docs/simulator.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { parseConfig } from '../src/config/load.js';
import { startSimServers, type SimServer } from '../src/sim/server.js';
import { percentile, round } from '../src/sim/stats.js';
import type { TraceRequest } from '../src/sim/trace.js';
import { WorkloadGenerator } from '../src/sim/workload.js';
import { ROOT, table, type RunResult, type Settings } from './fleet-common.js';
import { ChildProcesses, freePort, waitUntilReady } from './lib/children.js';

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

/** Runs every strategy at every load against `capacity` (req/s); `trace` times are trace seconds. */
export async function runHttp(settings: Settings, trace: readonly TraceRequest[], traceRate: number, capacity: number): Promise<RunResult[]> {
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
      const requests = trace.map((r) => ({ ...r, at: r.at * scale })).filter((r) => r.at < settings.seconds);
      for (const strategy of settings.strategies) {
        const result = await runOnce(servers, urls, settings, gateway.baseUrl, strategy, load, requests, rate).catch((error: unknown) => {
          throw new Error(`${strategy} at ${load}: ${(error as Error).message}`);
        });
        results.push(result);
        process.stdout.write(`${table([result]).split('\n')[2]}\n`);
      }
    }
  } finally {
    process.off('SIGINT', stop);
    await children.stopAll();
    await Promise.all(servers.map((server) => server.close()));
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}
