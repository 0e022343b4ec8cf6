/**
 * The fleet benchmark in virtual time: the trace's arrivals against N simulated engines on one
 * VirtualClock, with every routing decision made by the gateway's own code — the alias and its
 * deployments built by RouteTable from a parsed config, the fleet's Backends by
 * buildFleetSnapshot, the strategy by ModelAlias.pickDeployment (STRATEGY_PICKERS), the prompt's
 * block hashes by RequestFleet from the request body's text. What the gateway gets from the
 * network is fed in as it would arrive: each server's vLLM metrics every scrape interval
 * (through readEngineMetrics, the scraper's own mapping), and each call's begin (with its
 * estimated prompt tokens), first byte and end on its DeploymentState. Only the network itself is left out (no latency between gateway
 * and servers), so nothing here competes with other processes for the CPU: the numbers depend
 * on the model, the trace and the seeds alone.
 */
import { parseConfig } from '../src/config/load.js';
import { estimatePromptTokens } from '../src/core/request-size.js';
import { readEngineMetrics } from '../src/fleet/engines.js';
import { buildFleetSnapshot, type FleetSnapshot } from '../src/fleet/fleet.js';
import { RequestFleet } from '../src/fleet/placement.js';
import type { Sample } from '../src/fleet/prometheus-text.js';
import type { Deployment } from '../src/routing/deployment.js';
import { RouteTable } from '../src/routing/route-table.js';
import type { Placement } from '../src/routing/strategies.js';
import { VirtualClock } from '../src/sim/clock.js';
import { Engine } from '../src/sim/engine.js';
import type { SimProfile } from '../src/sim/profiles.js';
import { blockHashes } from '../src/sim/prompt-blocks.js';
import { seededRandom } from '../src/sim/random.js';
import { percentile, round } from '../src/sim/stats.js';
import type { TraceRequest } from '../src/sim/trace.js';
import { WorkloadGenerator, type WorkloadOptions } from '../src/sim/workload.js';
import type { RunResult } from './fleet-common.js';

/** One trace request as a client sends it (the body the gateway hashes) and as its server counts it. */
export interface PreparedRequest {
  /** Trace seconds (before time-scaling to a load). */
  readonly at: number;
  readonly body: { readonly messages: readonly { role: string; content: string }[]; readonly max_tokens: number; readonly stream: true };
  readonly bodyBytes: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** The engine's chain hashes of the prompt's token blocks (what the server's prefix cache keys on). */
  readonly blockHashes: readonly number[];
}

/** Generates each request's prompt once; every strategy and load replays the same ones. */
export function prepareRequests(trace: readonly TraceRequest[], workload: WorkloadOptions, blockSize: number): PreparedRequest[] {
  const generator = new WorkloadGenerator(workload);
  return trace.map((request) => {
    const prompt = generator.next(request);
    const body = { model: 'fleet', messages: prompt.messages.map(({ role, content }) => ({ role, content })), max_tokens: prompt.outputTokens, stream: true as const };
    return {
      at: request.at,
      body,
      bodyBytes: Buffer.byteLength(JSON.stringify(body)),
      promptTokens: prompt.tokens.length,
      outputTokens: prompt.outputTokens,
      blockHashes: blockHashes(prompt.tokens, blockSize),
    };
  });
}

export interface ReplayOptions {
  readonly profile: SimProfile;
  readonly servers: number;
  readonly strategy: string;
  /** Arrivals per second the trace is scaled to. */
  readonly rate: number;
  /** The trace's own mean rate over the replayed requests. */
  readonly traceRate: number;
  readonly scrapeMs: number;
  readonly routerSeed: number;
  /** `routing.weights` as YAML flow (e.g. `{ work: 0 }`); the config's defaults when absent. */
  readonly weights?: string;
  /** For studies (bench/fleet-study.ts): each finished request with the servers' state when it arrived. */
  readonly observe?: (request: ObservedRequest) => void;
}

export interface ObservedRequest {
  readonly index: number;
  readonly server: number;
  /** Virtual seconds. */
  readonly arrival: number;
  readonly admitted: number;
  readonly firstToken: number;
  readonly waitingAtArrival: readonly number[];
  readonly runningAtArrival: readonly number[];
  readonly kvAtArrival: readonly number[];
}

export interface ReplayRun {
  readonly result: RunResult;
  /** Virtual seconds from the last arrival until the last request finished: the backlog left. */
  readonly drainSeconds: number;
  /** Mean over scrapes of (most waiting − fewest waiting) across servers: how unevenly they queue. */
  readonly meanWaitingSpread: number;
  /** Requests per server. */
  readonly perServer: readonly number[];
}

/** Virtual time starts here (epoch ms), so Backend freshness and pick windows see ordinary timestamps. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

function gatewayConfig(options: ReplayOptions): string {
  const deployments = Array.from(
    { length: options.servers },
    (_, i) => `      - { provider: openai-compatible, name: sim-${i + 1}, base_url: "http://sim-${i + 1}.invalid/v1", model: ${options.profile.model.id}, kind: self-hosted, engine: vllm }`,
  ).join('\n');
  const weights = options.weights === undefined ? '' : `, weights: ${options.weights}`;
  return `fleet: { scrape_interval_ms: ${options.scrapeMs} }\nmodels:\n  - name: fleet-${options.strategy}\n    routing: { strategy: ${options.strategy}${weights} }\n    deployments:\n${deployments}\n`;
}

/** A vLLM /metrics page of `engine` as the scraper's parser would return it. */
function scrapeSamples(engine: Engine): Sample[] {
  const labels = { model_name: 'sim' };
  const c = engine.counters;
  return [
    { name: 'vllm:num_requests_waiting', labels, value: engine.waitingCount },
    { name: 'vllm:num_requests_running', labels, value: engine.runningCount },
    { name: 'vllm:kv_cache_usage_perc', labels, value: engine.kvUsage },
    { name: 'vllm:prefix_cache_queries_total', labels, value: c.prefixQueryTokens },
    { name: 'vllm:prefix_cache_hits_total', labels, value: c.prefixHitTokens },
    { name: 'vllm:prompt_tokens_total', labels, value: c.promptTokens },
    { name: 'vllm:generation_tokens_total', labels, value: c.generationTokens },
  ];
}

/** A placement as the gateway's attempt loop builds it (src/server/call-upstream.ts), first attempt. */
class ReplayPlacement implements Placement {
  private view: RequestFleet | undefined;

  constructor(
    readonly now: number,
    readonly promptTokens: number,
    readonly outputTokens: number,
    private readonly snapshot: FleetSnapshot,
    private readonly body: unknown,
  ) {}

  get fleet(): RequestFleet {
    return (this.view ??= new RequestFleet(this.snapshot, this.body));
  }

  usable(deployment: Deployment): boolean {
    return deployment.isAvailable(this.now, this.promptTokens + this.outputTokens);
  }
}

/** Replays `requests` at `options.rate` through the gateway's strategy against fresh engines. */
export function replay(requests: readonly PreparedRequest[], options: ReplayOptions, load = 0): ReplayRun {
  const config = parseConfig(gatewayConfig(options), 'bench-fleet.yaml', {});
  const routes = RouteTable.build(config);
  const snapshot = buildFleetSnapshot(config, routes);
  const alias = routes.get(`fleet-${options.strategy}`)!;
  const clock = new VirtualClock();
  const engines = alias.deployments.map(() => new Engine(options.profile.engine, clock));
  const engineOf = new Map<Deployment, number>(alias.deployments.map((deployment, i) => [deployment, i]));
  const backends = alias.deployments.map((deployment) => snapshot.backendByDeployment.get(deployment.name)!);
  const nowMs = () => EPOCH_MS + clock.now() * 1000;
  const scale = options.traceRate / options.rate;

  const ttft: number[] = [];
  const e2e: number[] = [];
  const perServer = new Array<number>(engines.length).fill(0);
  let failed = 0;
  let firstError: string | undefined;
  let outputTokens = 0;
  let lastFinish = 0;
  let inFlight = 0;
  let index = 0;
  let spreadSum = 0;
  let scrapes = 0;

  const scrape = () => {
    let most = 0;
    let fewest = Infinity;
    for (let i = 0; i < engines.length; i++) {
      const engine = engines[i]!;
      backends[i]!.recordReading(readEngineMetrics('vllm', scrapeSamples(engine)), nowMs());
      most = Math.max(most, engine.waitingCount);
      fewest = Math.min(fewest, engine.waitingCount);
    }
    spreadSum += most - fewest;
    scrapes++;
    if (index < requests.length || inFlight > 0) clock.schedule(options.scrapeMs / 1000, scrape);
  };

  const arrive = () => {
    const request = requests[index]!;
    const now = nowMs();
    const placement = new ReplayPlacement(now, estimatePromptTokens(request.bodyBytes), request.outputTokens, snapshot, request.body);
    const deployment = alias.pickDeployment(placement);
    index++;
    if (index < requests.length) clock.at(requests[index]!.at * scale, arrive);
    if (deployment === null) {
      failed++;
      firstError ??= 'no deployment picked';
      return;
    }
    const server = engineOf.get(deployment)!;
    const ticket = deployment.state.begin(now, placement.promptTokens + placement.outputTokens, true, placement.promptTokens);
    const arrival = clock.now();
    const observed =
      options.observe === undefined
        ? null
        : { index: index - 1, server, waitingAtArrival: engines.map((e) => e.waitingCount), runningAtArrival: engines.map((e) => e.runningCount), kvAtArrival: engines.map((e) => e.kvUsage) };
    inFlight++;
    const submitted = engines[server]!.submit({
      id: String(index),
      promptTokens: request.promptTokens,
      blockHashes: request.blockHashes,
      outputTokens: request.outputTokens,
      listener: {
        onFirstToken: (at) => {
          deployment.state.firstByte(ticket, EPOCH_MS + at * 1000);
          ttft.push(at - arrival);
        },
        onFinish: (done) => {
          inFlight--;
          deployment.state.end(ticket, null, EPOCH_MS + done.finish * 1000, done.outputTokens);
          e2e.push(done.finish - arrival);
          perServer[server]!++;
          outputTokens += done.outputTokens;
          lastFinish = Math.max(lastFinish, done.finish);
          if (observed !== null) options.observe!({ ...observed, arrival: done.arrival, admitted: done.admitted, firstToken: done.firstToken });
        },
      },
    });
    if (!submitted.ok) {
      inFlight--;
      failed++;
      firstError ??= submitted.reason;
      deployment.state.end(ticket, null, now, 0);
    }
  };

  // The gateway's tie-breaks use Math.random; seeded for the run so that a run repeats exactly.
  const random = Math.random;
  Math.random = seededRandom(options.routerSeed);
  try {
    if (requests.length > 0) {
      clock.at(requests[0]!.at * scale, arrive);
      clock.at(0, scrape);
    }
    clock.run();
  } finally {
    Math.random = random;
    void routes.close();
  }

  let queries = 0;
  let hits = 0;
  for (const engine of engines) {
    queries += engine.counters.prefixQueryTokens;
    hits += engine.counters.prefixHitTokens;
  }
  const first = (requests[0]?.at ?? 0) * scale;
  const last = (requests.at(-1)?.at ?? 0) * scale;
  const span = Math.max(1e-9, lastFinish - first);
  const finished = e2e.length;
  const ms = (values: number[], p: number) => Math.round(percentile(values, p) * 1000);
  return {
    result: {
      strategy: options.strategy,
      load,
      rate_rps: round(options.rate, 2),
      requests: requests.length,
      failed,
      ttft_p50_ms: ms(ttft, 50),
      ttft_p99_ms: ms(ttft, 99),
      e2e_p50_ms: ms(e2e, 50),
      e2e_p99_ms: ms(e2e, 99),
      throughput_rps: round(finished / span, 2),
      output_tokens_per_s: Math.round(outputTokens / span),
      prefix_hit_rate: round(queries > 0 ? hits / queries : 0, 3),
      max_share_vs_fair: round(finished > 0 ? Math.max(...perServer) / (finished / engines.length) : 0, 2),
      ...(firstError === undefined ? {} : { first_error: firstError }),
    },
    drainSeconds: round(Math.max(0, lastFinish - last), 2),
    meanWaitingSpread: round(scrapes > 0 ? spreadSum / scrapes : 0, 2),
    perServer,
  };
}

export interface CapacityProbe {
  readonly rate: number;
  readonly ttftP50Ms: number;
  readonly drainSeconds: number;
  readonly sustainable: boolean;
}

/**
 * The fleet's sustainable arrival rate on this request mix, measured: the highest rate at which
 * a replay of the whole window through `strategy` keeps TTFT p50 within `ttftP50Ms` and leaves
 * a backlog that drains within `maxDrainSeconds` after the last arrival — i.e. the queues stay
 * bounded rather than growing for as long as the trace runs. Found by bisection between a rate
 * that is sustainable and one that is not (the first bracket doubles from the trace's own rate).
 */
export function measureCapacity(
  requests: readonly PreparedRequest[],
  base: Omit<ReplayOptions, 'rate' | 'strategy'>,
  options: { strategy: string; ttftP50Ms: number; maxDrainSeconds: number; steps: number; onProbe?: (probe: CapacityProbe) => void },
): { rate: number; probes: CapacityProbe[] } {
  const probes: CapacityProbe[] = [];
  const probe = (rate: number): boolean => {
    const run = replay(requests, { ...base, strategy: options.strategy, rate });
    const sustainable = run.result.failed === 0 && run.result.ttft_p50_ms <= options.ttftP50Ms && run.drainSeconds <= options.maxDrainSeconds;
    const entry = { rate: round(rate, 3), ttftP50Ms: run.result.ttft_p50_ms, drainSeconds: run.drainSeconds, sustainable };
    probes.push(entry);
    options.onProbe?.(entry);
    return sustainable;
  };
  let low = base.traceRate;
  let high = low;
  if (probe(low)) {
    for (high = low * 2; probe(high); high *= 2) low = high;
  } else {
    for (low = high / 2; !probe(low); low /= 2) high = low;
  }
  for (let step = 0; step < options.steps; step++) {
    const mid = (low + high) / 2;
    if (probe(mid)) low = mid;
    else high = mid;
  }
  return { rate: low, probes };
}
