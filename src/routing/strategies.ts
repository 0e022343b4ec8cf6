import type { StrategyName } from '../config/schema.js';
import type { Deployment } from './deployment.js';
import type { RequestFleet } from '../fleet/placement.js';
import { FLEET_STRATEGIES } from './fleet-strategies.js';
import { lowest } from './lowest-score.js';

/** What a strategy knows of the request it places. */
export interface Placement {
  readonly now: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** Whether a deployment may take this request (available, not tried yet, matches any pin). */
  usable(deployment: Deployment): boolean;
  /** For the fleet strategies only: servers' metrics and the prompt's prefix hashes, built on first use. */
  readonly fleet?: RequestFleet;
}

/** An alias's routing settings that a strategy reads (`energy`: what to minimise, the TTFT bound). */
export interface StrategyOptions {
  readonly minimize: 'energy' | 'carbon';
  readonly maxTtftMs: number | null;
}

/** Picks one usable deployment, or null; O(deployments), no allocation. */
export type Strategy = (deployments: readonly Deployment[], placement: Placement, cursor: Cursor, options: StrategyOptions) => Deployment | null;

/** Per-alias mutable position for round-robin. */
export interface Cursor {
  next: number;
}

/** Random pick proportional to weight among the usable deployments of `tier` (or all when tier is null). */
function weightedPick(deployments: readonly Deployment[], placement: Placement, tier: number | null): Deployment | null {
  let total = 0;
  let zeroWeight: Deployment | null = null;
  for (const deployment of deployments) {
    if ((tier !== null && deployment.traits.priority !== tier) || !placement.usable(deployment)) continue;
    total += deployment.traits.weight;
    zeroWeight ??= deployment;
  }
  if (total <= 0) return zeroWeight;
  let point = Math.random() * total;
  let last: Deployment | null = null;
  for (const deployment of deployments) {
    if ((tier !== null && deployment.traits.priority !== tier) || !placement.usable(deployment)) continue;
    last = deployment;
    point -= deployment.traits.weight;
    if (point < 0) return deployment;
  }
  return last;
}

export const STRATEGY_PICKERS: Readonly<Record<StrategyName, Strategy>> = {
  weighted: (deployments, placement) => weightedPick(deployments, placement, null),

  'round-robin': (deployments, placement, cursor) => {
    const count = deployments.length;
    for (let step = 0; step < count; step++) {
      const deployment = deployments[(cursor.next + step) % count]!;
      if (placement.usable(deployment)) {
        cursor.next = (cursor.next + step + 1) % count;
        return deployment;
      }
    }
    return null;
  },

  'least-busy': (deployments, placement) => lowest(deployments, placement, (deployment) => deployment.state.inFlight),

  latency: (deployments, placement) =>
    lowest(deployments, placement, (deployment) => deployment.state.latency.expectedMs(placement.now, placement.outputTokens)),

  cost: (deployments, placement) =>
    lowest(deployments, placement, (deployment) => deployment.estimatedCost(placement.promptTokens, placement.outputTokens)),

  /** Own GPUs first, burst to cloud: the lowest tier with a usable deployment, weighted within it. */
  priority: (deployments, placement) => {
    let tier = Infinity;
    for (const deployment of deployments) {
      if (deployment.traits.priority < tier && placement.usable(deployment)) tier = deployment.traits.priority;
    }
    return tier === Infinity ? null : weightedPick(deployments, placement, tier);
  },

  /**
   * The lowest expected Wh (or gCO₂e with `minimize: carbon`) for this request, among the usable
   * deployments whose expected time to first token meets `max_ttft_ms`. When none meets it, the
   * fastest is taken; a deployment without an energy profile ranks after every one with one.
   */
  energy: (deployments, placement, _cursor, options) => {
    const bound = options.maxTtftMs;
    if (bound !== null) {
      let anyWithin = false;
      for (const deployment of deployments) {
        if (placement.usable(deployment) && deployment.state.latency.expectedMs(placement.now, 0) <= bound) {
          anyWithin = true;
          break;
        }
      }
      if (!anyWithin) return lowest(deployments, placement, (deployment) => deployment.state.latency.expectedMs(placement.now, 0));
    }
    return lowest(deployments, placement, (deployment) => {
      if (bound !== null && deployment.state.latency.expectedMs(placement.now, 0) > bound) return Infinity;
      return deployment.expectedEnergy(placement.promptTokens, placement.outputTokens, options.minimize) ?? Number.MAX_VALUE;
    });
  },

  /** Self-hosted fleets: least-queue, least-work, kv-aware, prefix-affinity, lora-affinity, fleet (fleet-strategies.ts). */
  ...FLEET_STRATEGIES,
};
