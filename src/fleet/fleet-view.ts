import type { Backend } from './backend.js';
import type { FleetSnapshot } from './fleet.js';

/** One server in GET /admin/fleet (and `stellwerk fleet`). */
export interface BackendView {
  readonly backend: string;
  /** As configured (`auto` included) and as read from the metric names. */
  readonly engine: string;
  readonly detected_engine: string | null;
  readonly deployments: readonly { name: string; alias: string; picks: number }[];
  readonly waiting: number | null;
  readonly running: number | null;
  readonly kv_cache_usage: number | null;
  readonly prefix_cache_hit_rate: number | null;
  readonly loras: { readonly running: readonly string[]; readonly waiting: readonly string[]; readonly max: number | null };
  readonly prompt_tokens_total: number | null;
  readonly generation_tokens_total: number | null;
  /** Milliseconds since the last successful scrape; null before the first. */
  readonly last_scrape_age_ms: number | null;
  /** True when routing does not use the reading (too old, failed, or no metrics at all). */
  readonly stale: boolean;
  readonly error: string | null;
  readonly gateway_in_flight: number;
  /** Prompt tokens (estimated) the gateway sent and has no first byte for yet: prefill outstanding. */
  readonly gateway_prefill_tokens: number;
  readonly sent_since_scrape: number;
  /** Routing picks over the window, and their share of all fleet picks in it. */
  readonly picks: number;
  readonly share: number;
}

/** The fleet's live state: each self-hosted server with its last reading and its share of traffic. */
export function fleetView(snapshot: FleetSnapshot | undefined, now: number): { object: 'list'; window_ms: number | null; data: BackendView[] } {
  const backends = snapshot?.backends ?? [];
  let total = 0;
  for (const backend of backends) total += backend.picksInWindow(now);
  return {
    object: 'list',
    window_ms: backends[0]?.settings.shareWindowMs ?? null,
    data: backends.map((backend) => backendView(backend, now, total)),
  };
}

function backendView(backend: Backend, now: number, totalPicks: number): BackendView {
  const reading = backend.reading;
  const picks = backend.picksInWindow(now);
  return {
    backend: backend.id,
    engine: backend.settings.engine,
    detected_engine: reading?.engine ?? null,
    deployments: backend.deployments.map((deployment) => ({ ...deployment, picks: backend.deploymentPicks(deployment.name, now) })),
    waiting: reading?.waiting ?? null,
    running: reading?.running ?? null,
    kv_cache_usage: reading?.kvUsage ?? null,
    prefix_cache_hit_rate: backend.prefixHitRate,
    loras: { running: reading?.runningLoras ?? [], waiting: reading?.waitingLoras ?? [], max: reading?.maxLoras ?? null },
    prompt_tokens_total: reading?.promptTokens ?? null,
    generation_tokens_total: reading?.generationTokens ?? null,
    last_scrape_age_ms: backend.scrapedAt === 0 ? null : Math.max(0, now - backend.scrapedAt),
    stale: !backend.isFresh(now),
    error: backend.settings.metricsUrl === null ? 'engine has no metrics endpoint; in-flight counts are used' : backend.error,
    gateway_in_flight: backend.gatewayInFlight(),
    gateway_prefill_tokens: backend.gatewayPrefill(),
    sent_since_scrape: backend.sentSinceScrape,
    picks,
    share: totalPicks === 0 ? 0 : picks / totalPicks,
  };
}
