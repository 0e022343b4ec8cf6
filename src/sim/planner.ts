import { VirtualClock } from './clock.js';
import { Engine, type FinishedRequest } from './engine.js';
import { blockHashes } from './prompt-blocks.js';
import type { EngineParams } from './profiles.js';
import { percentile } from './stats.js';
import type { TraceRequest } from './trace.js';
import { DEFAULT_WORKLOAD, WorkloadGenerator, type WorkloadOptions } from './workload.js';

/**
 * Capacity planning in virtual time: the trace against 1…N simulated servers behind a routing
 * policy, no HTTP, as fast as the CPU allows, and the smallest count that meets a TTFT SLO.
 */
export const PLAN_POLICIES = ['least-queue', 'round-robin'] as const;
export type PlanPolicy = (typeof PLAN_POLICIES)[number];

/** A trace request as the servers see it: prompt block hashes for the prefix cache. */
export interface PlannedRequest {
  readonly at: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly blockHashes: readonly number[];
}

export interface FleetRun {
  readonly servers: number;
  readonly requests: number;
  /** Requests no server could ever hold (longer than the model's context or the KV cache). */
  readonly refused: number;
  readonly ttftP50: number;
  readonly ttftP99: number;
  readonly e2eP50: number;
  readonly e2eP99: number;
  /** Share of the run's span the servers spent running steps, 0..1 (near 1 whenever anything runs). */
  readonly busy: number;
  /** Time-averaged share of KV-cache blocks in use: how full the batches were, 0..1. */
  readonly utilisation: number;
  /** Prompt tokens served from prefix caches over all prompt tokens. */
  readonly prefixHitRate: number;
  /** From the first arrival to the last finish, in virtual seconds. */
  readonly spanSeconds: number;
}

/** Prepares a trace: prompts from the workload generator (prefix sharing) or unique ones (none). */
export function planRequests(trace: readonly TraceRequest[], blockSize: number, workload: WorkloadOptions | null = DEFAULT_WORKLOAD): PlannedRequest[] {
  const generator = workload === null ? undefined : new WorkloadGenerator(workload);
  return trace.map((request) => ({
    at: request.at,
    promptTokens: request.promptTokens,
    outputTokens: request.outputTokens,
    blockHashes: generator === undefined ? [] : blockHashes(generator.next(request).tokens, blockSize),
  }));
}

/**
 * Picks a server for each request. least-queue: fewest waiting, then fewest running, ties to the
 * server after the last pick (so equal servers share evenly), as a gateway reading vLLM's
 * num_requests_waiting/running would; here it reads them without scrape delay.
 */
function router(policy: PlanPolicy, engines: readonly Engine[]): () => number {
  let next = 0;
  if (policy === 'round-robin') return () => next++ % engines.length;
  return () => {
    let best = -1;
    for (let k = 0; k < engines.length; k++) {
      const i = (next + k) % engines.length;
      const e = engines[i]!;
      if (best === -1 || e.waitingCount < engines[best]!.waitingCount || (e.waitingCount === engines[best]!.waitingCount && e.runningCount < engines[best]!.runningCount)) best = i;
    }
    next = (best + 1) % engines.length;
    return best;
  };
}

export function simulateFleet(requests: readonly PlannedRequest[], params: EngineParams, servers: number, policy: PlanPolicy): FleetRun {
  const clock = new VirtualClock();
  const engines = Array.from({ length: servers }, () => new Engine(params, clock));
  const pick = router(policy, engines);
  const finished: FinishedRequest[] = [];
  const onFinish = (result: FinishedRequest) => finished.push(result);
  let refused = 0;
  let index = 0;
  // One arrival event at a time keeps the event heap small for long traces.
  const arrive = () => {
    const request = requests[index]!;
    const result = engines[pick()]!.submit({ id: String(index), promptTokens: request.promptTokens, blockHashes: request.blockHashes, outputTokens: request.outputTokens, listener: { onFinish } });
    if (!result.ok) refused++;
    index++;
    if (index < requests.length) clock.at(requests[index]!.at, arrive);
  };
  if (requests.length > 0) clock.at(requests[0]!.at, arrive);
  clock.run();
  const ttft = finished.map((r) => r.firstToken - r.arrival);
  const e2e = finished.map((r) => r.finish - r.arrival);
  const start = requests[0]?.at ?? 0;
  const end = finished.reduce((last, r) => Math.max(last, r.finish), start);
  const span = end - start;
  let busy = 0;
  let kvBlockSeconds = 0;
  let queried = 0;
  let hits = 0;
  for (const engine of engines) {
    busy += engine.counters.busySeconds;
    kvBlockSeconds += engine.counters.kvBlockSeconds;
    queried += engine.counters.prefixQueryTokens;
    hits += engine.counters.prefixHitTokens;
  }
  return {
    servers,
    requests: requests.length,
    refused,
    ttftP50: percentile(ttft, 50),
    ttftP99: percentile(ttft, 99),
    e2eP50: percentile(e2e, 50),
    e2eP99: percentile(e2e, 99),
    busy: span > 0 ? busy / (servers * span) : 0,
    utilisation: span > 0 ? kvBlockSeconds / (engines[0]!.kv.totalBlocks * servers * span) : 0,
    prefixHitRate: queried > 0 ? hits / queried : 0,
    spanSeconds: span,
  };
}

/**
 * What one server sustains on a request mix: the requests all arrive at once, in order, and the
 * rate at which it finishes them is its saturated throughput (requests per second).
 */
export function saturatedThroughput(requests: readonly PlannedRequest[], params: EngineParams): number {
  const burst = requests.map((request) => ({ ...request, at: 0 }));
  const run = simulateFleet(burst, params, 1, 'round-robin');
  return (run.requests - run.refused) / run.spanSeconds;
}

export interface PlanResult {
  readonly runs: FleetRun[];
  /** The smallest server count whose TTFT p99 meets the SLO; undefined when none up to the maximum does. */
  readonly servers: number | undefined;
}

/** Tries 1, 2, … maxServers servers and stops at the first that meets the SLO. */
export function planCapacity(requests: readonly PlannedRequest[], params: EngineParams, options: { sloTtftP99: number; maxServers: number; policy: PlanPolicy; onRun?: (run: FleetRun) => void }): PlanResult {
  const runs: FleetRun[] = [];
  for (let servers = 1; servers <= options.maxServers; servers++) {
    const run = simulateFleet(requests, params, servers, options.policy);
    runs.push(run);
    options.onRun?.(run);
    if (run.refused === 0 && run.ttftP99 <= options.sloTtftP99) return { runs, servers };
  }
  return { runs, servers: undefined };
}
