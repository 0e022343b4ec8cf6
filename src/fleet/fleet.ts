import type { Config, FleetConfig, ModelConfig } from '../config/schema.js';
import { deploymentName } from '../config/schema.js';
import type { RouteTable } from '../routing/route-table.js';
import type { Logger } from '../telemetry/logger.js';
import { Backend, type BackendSettings } from './backend.js';
import { FleetScraper } from './scraper.js';

/** An alias's fleet routing settings, as its strategy reads them. */
export interface FleetRouting {
  readonly weights: { readonly queue: number; readonly kv: number; readonly prefix: number; readonly lora: number; readonly work: number };
  readonly imbalance: number;
  readonly blockChars: number;
  readonly maxBlocks: number;
}

/** What the fleet knows for one route table: each self-hosted deployment's server and each alias's settings. */
export interface FleetSnapshot {
  readonly backendByDeployment: ReadonlyMap<string, Backend>;
  readonly routingByAlias: ReadonlyMap<string, FleetRouting>;
  /** Every watched server, for GET /admin/fleet. */
  readonly backends: readonly Backend[];
}

/**
 * Route tables are built by the runtime; the fleet attaches its knowledge to each one here, so a
 * request finds it through the runtime it started with and a reload needs no new plumbing.
 */
const SNAPSHOTS = new WeakMap<RouteTable, FleetSnapshot>();

export function fleetSnapshotOf(routes: RouteTable): FleetSnapshot | undefined {
  return SNAPSHOTS.get(routes);
}

/**
 * The gateway's self-hosted servers: one Backend per metrics URL, kept across reloads (with
 * their readings and remembered prompt blocks), and the scraper that keeps them current.
 */
export class Fleet {
  private backends = new Map<string, Backend>();
  private readonly scraper: FleetScraper;

  constructor(logger: Logger) {
    this.scraper = new FleetScraper(logger);
  }

  /** Links `routes` (built from `config`) to the fleet and re-times the scraper. */
  sync(config: Config, routes: RouteTable): FleetSnapshot {
    const snapshot = buildFleetSnapshot(config, routes, this.backends);
    this.backends = new Map(snapshot.backends.map((backend) => [backend.id, backend]));
    this.scraper.watch(snapshot.backends);
    return snapshot;
  }

  /** Reads every server once now (tests, and a first reading before traffic). */
  async scrapeAll(): Promise<void> {
    await Promise.all([...this.backends.values()].map((backend) => this.scraper.scrapeOnce(backend)));
  }

  stop(): void {
    this.scraper.stop();
  }
}

/**
 * What the fleet knows for `routes`, without scraping: one Backend per metrics URL (taken from
 * `previous` by id when there, so readings and remembered prompt blocks survive a reload) and
 * each alias's routing settings; attached to `routes` for the requests that use it. Whoever
 * builds it keeps the backends' readings current (the scraper in the gateway; a virtual-time
 * replay in bench/fleet-virtual.ts).
 */
export function buildFleetSnapshot(config: Config, routes: RouteTable, previous: ReadonlyMap<string, Backend> = new Map()): FleetSnapshot {
  const next = new Map<string, Backend>();
  const byDeployment = new Map<string, Backend>();
  const routing = new Map<string, FleetRouting>();
  for (const model of config.models) {
    routing.set(model.name, routingOf(config.fleet, model));
    const deployments = routes.get(model.name)?.deployments ?? [];
    model.deployments.forEach((settings, index) => {
      if (settings.kind !== 'self-hosted' || settings.provider !== 'openai-compatible') return;
      const name = deploymentName(model.name, index, settings);
      const deployment = deployments.find((candidate) => candidate.name === name);
      if (deployment === undefined) return;
      const engine = settings.engine ?? 'auto';
      const metricsUrl = engine === 'ollama' ? null : (settings.metrics_url ?? defaultMetricsUrl(settings.base_url));
      const id = metricsUrl === null ? `deployment:${name}` : displayUrl(metricsUrl);
      const wanted = backendSettings(config.fleet, model, metricsUrl, engine);
      let backend = next.get(id);
      if (backend === undefined) {
        backend = previous.get(id) ?? new Backend(id, wanted);
        backend.update(wanted);
        backend.states = [];
        backend.deployments = [];
        next.set(id, backend);
      } else {
        // A server shared by aliases is read as often and judged as strictly as the strictest asks.
        backend.update({
          ...backend.settings,
          intervalMs: Math.min(backend.settings.intervalMs, wanted.intervalMs),
          timeoutMs: Math.min(backend.settings.timeoutMs, wanted.timeoutMs),
          staleAfterMs: Math.min(backend.settings.staleAfterMs, wanted.staleAfterMs),
        });
      }
      backend.states.push(deployment.state);
      backend.deployments.push({ name, alias: model.name });
      byDeployment.set(name, backend);
    });
  }
  const snapshot: FleetSnapshot = { backendByDeployment: byDeployment, routingByAlias: routing, backends: [...next.values()] };
  SNAPSHOTS.set(routes, snapshot);
  return snapshot;
}

function routingOf(fleet: FleetConfig, model: ModelConfig): FleetRouting {
  return {
    weights: model.routing.weights,
    imbalance: model.routing.imbalance,
    blockChars: fleet.prefix_block_chars,
    maxBlocks: fleet.prefix_max_blocks,
  };
}

function backendSettings(fleet: FleetConfig, model: ModelConfig, metricsUrl: string | null, engine: BackendSettings['engine']): BackendSettings {
  const intervalMs = model.fleet?.scrape_interval_ms ?? fleet.scrape_interval_ms;
  return {
    metricsUrl,
    engine,
    intervalMs,
    timeoutMs: Math.min(fleet.scrape_timeout_ms ?? Math.floor(intervalMs * 0.8), Math.max(1, intervalMs - 1)),
    staleAfterMs: Math.max(model.fleet?.stale_after_ms ?? fleet.stale_after_ms, intervalMs),
    prefixCacheBlocks: fleet.prefix_cache_blocks,
    shareWindowMs: fleet.share_window_ms,
  };
}

/** vLLM, SGLang, TGI and llama.cpp serve /metrics at the root, beside /v1. */
export function defaultMetricsUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '') + '/metrics';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** The URL as shown in logs and the admin API: no user, password or query. */
function displayUrl(metricsUrl: string): string {
  const url = new URL(metricsUrl);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}
