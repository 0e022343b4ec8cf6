import type { Backend } from '../fleet/backend.js';
import type { RequestFleet } from '../fleet/placement.js';
import type { Deployment } from './deployment.js';
import type { Placement, Strategy } from './strategies.js';
import { lowest } from './lowest-score.js';

/**
 * Strategies for groups of self-hosted inference servers, from what the servers report (queue,
 * KV cache, LoRA adapters; read by src/fleet), the prompt's prefix, and the prompt tokens the
 * gateway sent to each server without a first byte yet (DeploymentState.prefillOutstanding). A
 * server whose reading is missing, failed or stale is judged by the gateway's own in-flight count
 * instead, so it is neither favoured nor shunned for lack of metrics. Every pick is noted on the server, so that
 * requests sent since its last scrape count toward its queue.
 */

export const FLEET_STRATEGY_NAMES = ['least-queue', 'kv-aware', 'prefix-affinity', 'lora-affinity', 'least-work', 'fleet'] as const;
export type FleetStrategyName = (typeof FLEET_STRATEGY_NAMES)[number];

/** Waiting requests outrank running ones: a server that queues is full, however few it runs. */
const WAITING_RANK = 1e6;
/** Separates tiers (adapter loaded, load bound) far above any queue score. */
const TIER = 1e12;

/** Waiting (ranked first) and running requests of a fresh reading, or the gateway's in-flight count. */
function queueScore(backend: Backend | null, deployment: Deployment, now: number): number {
  if (backend === null) return deployment.state.inFlight;
  if (!backend.isFresh(now)) return backend.gatewayInFlight();
  const reading = backend.reading!;
  const waiting = reading.waiting ?? 0;
  const running = reading.running ?? 0;
  // What was sent since the scrape waits behind a queue, or runs at once on a server that has room.
  return waiting > 0 ? (waiting + backend.sentSinceScrape) * WAITING_RANK + running : running + backend.sentSinceScrape;
}

/** Waiting requests of a fresh reading, with those sent since when it queues; 0 without a fresh reading. */
function waitingOf(backend: Backend | null, now: number): number {
  if (backend === null || !backend.isFresh(now)) return 0;
  const waiting = backend.reading!.waiting ?? 0;
  return waiting > 0 ? waiting + backend.sentSinceScrape : 0;
}

/** Requests on the server, waiting or running (or the gateway's in-flight count): the load that is bounded. */
function loadOf(backend: Backend | null, deployment: Deployment, now: number): number {
  if (backend === null) return deployment.state.inFlight;
  if (!backend.isFresh(now)) return backend.gatewayInFlight();
  const reading = backend.reading!;
  return (reading.waiting ?? 0) + (reading.running ?? 0) + backend.sentSinceScrape;
}

/**
 * Prefill assumed (tokens/s) for a server until it has shown a higher rate while queuing (an
 * 8B model on one A100 prefills 10–15k tokens/s). Only ratios between servers matter when they
 * are alike, so the value mostly weighs prefill work against the per-request term below.
 */
const DEFAULT_PREFILL_TOKENS_PER_S = 10_000;
/**
 * What each request on the server adds to the expected wait in `least-work` (s): running
 * sequences share every step's token budget and lengthen it, so a server busy decoding prefills
 * more slowly. 10 ms (100 prompt tokens at the default rate) was the best of 2 ms, 10 ms and a
 * relative term in the virtual-time bench (docs/simulator.md); without it, servers with few long
 * prompts but many long answers got up to 1.4× their share.
 */
const SECONDS_PER_RUNNING = 0.01;
/** The prompt-size estimate's bytes per token (src/core/request-size.ts), to turn prefix blocks into tokens. */
const BYTES_PER_TOKEN = 4;

/**
 * Prompt tokens the server has to prefill before this request's first token: those the gateway
 * sent and has no first byte for yet, plus this prompt less the blocks the server likely still
 * caches. (Other requests' prompts count whole: their cache hits are not known.)
 */
function workOf(backend: Backend | null, deployment: Deployment, placement: Placement, cachedTokens: number): number {
  const outstanding = backend === null ? deployment.state.prefillOutstanding : backend.gatewayPrefill();
  return outstanding + Math.max(0, placement.promptTokens - cachedTokens);
}

/** Prompt tokens of this request that `backend` likely has cached (its matched prefix blocks). */
function cachedTokensOf(backend: Backend | null, fleet: RequestFleet, alias: string): number {
  if (backend === null) return 0;
  return (fleet.matchedBlocks(backend, alias) * fleet.routingOf(alias).blockChars) / BYTES_PER_TOKEN;
}

function prefillRateOf(backend: Backend | null): number {
  return backend === null ? DEFAULT_PREFILL_TOKENS_PER_S : Math.max(DEFAULT_PREFILL_TOKENS_PER_S, backend.peakPromptRate);
}

function kvOf(backend: Backend | null, now: number): number | null {
  return backend !== null && backend.isFresh(now) ? backend.reading!.kvUsage : null;
}

/** 1: the deployment's adapter is loaded on its server; 0.5: waiting to load; 0: not, or unknown. */
function loraScore(backend: Backend | null, deployment: Deployment, now: number): number {
  if (backend === null || !backend.isFresh(now)) return 0;
  const reading = backend.reading!;
  if (reading.runningLoras.includes(deployment.upstreamModel)) return 1;
  return reading.waitingLoras.includes(deployment.upstreamModel) ? 0.5 : 0;
}

/** Aggregates over the usable deployments that the scores are relative to. */
interface GroupLoad {
  /** Bounded loads: a server may take the request only while its load + 1 stays within this. */
  cap: number;
  maxLoad: number;
  /** Mean KV use of the servers with a fresh reading, assumed for those without (0 when none has one). */
  meanKv: number;
}

function groupLoad(deployments: readonly Deployment[], placement: Placement, fleet: RequestFleet | undefined, imbalance: number): GroupLoad {
  let sum = 0;
  let count = 0;
  let maxLoad = 0;
  let kvSum = 0;
  let kvCount = 0;
  for (const deployment of deployments) {
    if (!placement.usable(deployment)) continue;
    const backend = fleet?.backendOf(deployment) ?? null;
    const load = loadOf(backend, deployment, placement.now);
    sum += load;
    count++;
    if (load > maxLoad) maxLoad = load;
    const kv = kvOf(backend, placement.now);
    if (kv !== null) {
      kvSum += kv;
      kvCount++;
    }
  }
  const cap = count === 0 ? Infinity : Math.ceil(((1 + imbalance) * (sum + 1)) / count);
  return { cap, maxLoad, meanKv: kvCount === 0 ? 0 : kvSum / kvCount };
}

/** Runs `pick` and notes the chosen deployment on its server. */
function noted(placement: Placement, chosen: Deployment | null): Deployment | null {
  if (chosen !== null) placement.fleet?.notePick(chosen, placement.now);
  return chosen;
}

export const FLEET_STRATEGIES: Readonly<Record<FleetStrategyName, Strategy>> = {
  /** Fewest waiting, then fewest running, counting what the gateway sent since the last scrape. */
  'least-queue': (deployments, placement) => {
    const fleet = placement.fleet;
    return noted(placement, lowest(deployments, placement, (d) => queueScore(fleet?.backendOf(d) ?? null, d, placement.now)));
  },

  /** Weighted queue depth (relative to the group's deepest) plus KV-cache use: room for new sequences. */
  'kv-aware': (deployments, placement) => {
    const fleet = placement.fleet;
    const alias = deployments[0]?.alias ?? '';
    const { weights } = fleet?.routingOf(alias) ?? { weights: { queue: 1, kv: 1 } };
    const group = groupLoad(deployments, placement, fleet, 0);
    const scale = Math.max(1, group.maxLoad);
    return noted(
      placement,
      lowest(deployments, placement, (d) => {
        const backend = fleet?.backendOf(d) ?? null;
        return (weights.queue * loadOf(backend, d, placement.now)) / scale + weights.kv * (kvOf(backend, placement.now) ?? group.meanKv);
      }),
    );
  },

  /**
   * The server that served the longest prefix of this prompt recently, among those within the
   * load bound; the least queued when none did. The bound keeps a hot prefix from piling onto
   * one server: once it is over (1 + imbalance) × the mean load, the prefix spills to the next.
   */
  'prefix-affinity': (deployments, placement) => {
    const fleet = placement.fleet;
    if (fleet === undefined) return lowest(deployments, placement, (d) => d.state.inFlight);
    const alias = deployments[0]?.alias ?? '';
    const group = groupLoad(deployments, placement, fleet, fleet.routingOf(alias).imbalance);
    return noted(
      placement,
      lowest(deployments, placement, (d) => {
        const backend = fleet.backendOf(d);
        const over = loadOf(backend, d, placement.now) + 1 > group.cap ? 2 * TIER : 0;
        const matched = backend === null ? 0 : fleet.matchedBlocks(backend, alias);
        return over - matched * WAITING_RANK * 1000 + queueScore(backend, d, placement.now);
      }),
    );
  },

  /** Servers with the deployment's adapter loaded first, then those about to load it; least queued within. */
  'lora-affinity': (deployments, placement) => {
    const fleet = placement.fleet;
    return noted(
      placement,
      lowest(deployments, placement, (d) => {
        const backend = fleet?.backendOf(d) ?? null;
        return (1 - loraScore(backend, d, placement.now)) * 2 * TIER + queueScore(backend, d, placement.now);
      }),
    );
  },

  /**
   * The shortest expected wait for the first token: the prompt tokens queued on the server (sent
   * by the gateway, no first byte yet) plus this prompt's uncached part, over the server's prefill
   * rate, plus a little per request on it (decoding slows prefill). A server whose fresh reading
   * shows waiting requests is out of batch slots, which prefill work does not show, so waiting
   * ranks first (as in `least-queue`).
   */
  'least-work': (deployments, placement) => {
    const fleet = placement.fleet;
    if (fleet === undefined) return lowest(deployments, placement, (d) => d.state.prefillOutstanding);
    const alias = deployments[0]?.alias ?? '';
    return noted(
      placement,
      lowest(deployments, placement, (d) => {
        const backend = fleet.backendOf(d);
        const prefill = workOf(backend, d, placement, cachedTokensOf(backend, fleet, alias)) / prefillRateOf(backend);
        const decode = loadOf(backend, d, placement.now) * SECONDS_PER_RUNNING;
        return waitingOf(backend, placement.now) * WAITING_RANK + prefill + decode;
      }),
    );
  },

  /**
   * All signals at once, weighted per alias: queue (relative to the deepest), KV use, prefill
   * work (relative to the most outstanding, plus this prompt's uncached part), prefix match
   * (share of the prompt's blocks) and adapter loaded; lower is better. With a prefix weight the
   * load bound applies as in `prefix-affinity`.
   */
  fleet: (deployments, placement) => {
    const fleet = placement.fleet;
    if (fleet === undefined) return lowest(deployments, placement, (d) => d.state.inFlight);
    const alias = deployments[0]?.alias ?? '';
    const routing = fleet.routingOf(alias);
    const { weights } = routing;
    const group = groupLoad(deployments, placement, fleet, routing.imbalance);
    const scale = Math.max(1, group.maxLoad);
    const blocks = weights.prefix > 0 || weights.work > 0 ? fleet.promptBlocks(alias).length : 0;
    const workScale = weights.work > 0 ? Math.max(1, maxPrefill(deployments, placement, fleet) + placement.promptTokens) : 1;
    return noted(
      placement,
      lowest(deployments, placement, (d) => {
        const backend = fleet.backendOf(d);
        const load = loadOf(backend, d, placement.now);
        let score = (weights.queue * load) / scale + weights.kv * (kvOf(backend, placement.now) ?? group.meanKv);
        if (weights.lora > 0) score -= weights.lora * loraScore(backend, d, placement.now);
        const matched = blocks > 0 && backend !== null ? fleet.matchedBlocks(backend, alias) : 0;
        if (weights.prefix > 0 && blocks > 0) {
          if (load + 1 > group.cap) score += TIER;
          else score -= (weights.prefix * matched) / blocks;
        }
        if (weights.work > 0) score += (weights.work * workOf(backend, d, placement, (matched * routing.blockChars) / BYTES_PER_TOKEN)) / workScale;
        return score;
      }),
    );
  },
};

/** The most prompt tokens outstanding on any usable deployment's server: what the work term is relative to. */
function maxPrefill(deployments: readonly Deployment[], placement: Placement, fleet: RequestFleet): number {
  let most = 0;
  for (const deployment of deployments) {
    if (!placement.usable(deployment)) continue;
    const backend = fleet.backendOf(deployment);
    const prefill = backend === null ? deployment.state.prefillOutstanding : backend.gatewayPrefill();
    if (prefill > most) most = prefill;
  }
  return most;
}
