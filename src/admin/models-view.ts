import { PROVIDER_PUE } from '../accounting/grid.js';
import type { Deployment } from '../routing/deployment.js';
import type { RouteTable } from '../routing/route-table.js';

/**
 * GET /admin/models: every alias with its deployments as the router sees them now (circuit,
 * in flight, cooldown, availability) and the share of the alias's recent traffic each took.
 * Read from the live routing state of this replica; nothing here touches a store.
 */
export function modelsView(
  routes: RouteTable,
  traffic: ReadonlyMap<string, ReadonlyMap<string, number>>,
  allowed: (alias: string) => boolean,
  now: number,
): { data: unknown[] } {
  const data: unknown[] = [];
  for (const alias of routes.aliases.values()) {
    if (!allowed(alias.name)) continue;
    const counts = traffic.get(alias.name);
    let total = 0;
    for (const deployment of alias.deployments) total += counts?.get(deployment.name) ?? 0;
    data.push({
      alias: alias.name,
      strategy: alias.strategyName,
      fallbacks: alias.fallbacks,
      deployments: alias.deployments.map((deployment) => deploymentView(deployment, total === 0 ? 0 : (counts?.get(deployment.name) ?? 0) / total, now)),
      unusable: alias.unusable,
    });
  }
  return { data };
}

function deploymentView(deployment: Deployment, share: number, now: number): Record<string, unknown> {
  const { traits, state } = deployment;
  const accounting = traits.accounting ?? null;
  const price = accounting?.price ?? traits.price;
  const energy = accounting?.energy ?? null;
  return {
    name: deployment.name,
    provider: deployment.provider,
    model: deployment.upstreamModel,
    // Clouds bill per token; anything else runs on compute the company operates.
    kind: Object.hasOwn(PROVIDER_PUE, deployment.provider) ? 'cloud' : 'self-hosted',
    region: traits.region,
    price: price === null ? null : { ...price, source: accounting?.priceSource ?? 'config', cost_per_hour: accounting?.costPerHour ?? null },
    hardware:
      energy === null
        ? null
        : { gpu: energy.gpu, count: energy.gpus, pue: energy.pue, grid_g_per_kwh: energy.gPerKWh, energy_method: energy.method, intensity_source: energy.intensitySource },
    state: {
      available: deployment.isAvailable(now, 0),
      circuit: state.breaker.stateAt(now),
      in_flight: state.inFlight,
      cooldown_until: state.cooldownUntil > now ? new Date(state.cooldownUntil).toISOString() : null,
    },
    traffic_share: share,
  };
}
