import type { Deployment } from './deployment.js';
import type { Placement } from './strategies.js';

/**
 * The usable deployment with the lowest score; ties broken uniformly at random. The first usable
 * one is taken when no score compares (all Infinity or NaN, e.g. from a server's NaN metric), so
 * a usable deployment is never refused for a degenerate score. O(deployments), no allocation.
 */
export function lowest(deployments: readonly Deployment[], placement: Placement, score: (deployment: Deployment) => number): Deployment | null {
  let best: Deployment | null = null;
  let bestScore = Infinity;
  let ties = 0;
  for (const deployment of deployments) {
    if (!placement.usable(deployment)) continue;
    const value = score(deployment);
    if (best === null || value < bestScore) {
      best = deployment;
      bestScore = value;
      ties = 1;
    } else if (value === bestScore && Math.random() * ++ties < 1) {
      best = deployment;
    }
  }
  return best;
}
