import type { DeploymentState } from '../routing/deployment-state.js';
import type { Engine, EngineReading } from './engines.js';
import { PickWindow } from './pick-window.js';
import { RecentSet } from './recent-set.js';

/** How one self-hosted server is watched. */
export interface BackendSettings {
  /** Where its Prometheus metrics are; null for an engine without them (Ollama). */
  readonly metricsUrl: string | null;
  readonly engine: Engine | 'auto';
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  /** Recent prompt blocks remembered for prefix affinity. */
  readonly prefixCacheBlocks: number;
  readonly shareWindowMs: number;
}

/**
 * One inference server as the fleet sees it: the last reading of its metrics, the gateway's own
 * traffic to it since, the prompt blocks it served recently, and the picks it got. Kept by its
 * metrics URL across config reloads. Several deployments may share one server (e.g. one per
 * LoRA adapter); their in-flight counts add up here.
 */
export class Backend {
  reading: EngineReading | null = null;
  /** Epoch ms of the last successful scrape; 0 before the first. */
  scrapedAt = 0;
  /** Why the last scrape failed; null when it succeeded. */
  error: string | null = null;
  /** Prefix-cache hit rate, 0..1: the server's gauge or the rate between the last two scrapes of its counters. */
  prefixHitRate: number | null = null;
  /**
   * The highest prompt-token rate (tokens/s) seen between two scrapes while the server queued:
   * a floor on how fast it prefills; 0 until seen.
   */
  peakPromptRate = 0;
  /** Requests the gateway sent here since the last scrape, which that scrape could not count yet. */
  sentSinceScrape = 0;
  /** True while a scrape is under way: the next tick skips rather than overlapping it. */
  scraping = false;
  /** States of the deployments on this server, for the fallback to the gateway's own counts. */
  states: DeploymentState[] = [];
  /** Deployment names on this server (for the admin view). */
  deployments: { name: string; alias: string }[] = [];
  readonly recentBlocks: RecentSet<number>;
  private picks: PickWindow;
  private readonly picksByDeployment = new Map<string, PickWindow>();

  constructor(
    /** The metrics URL without credentials or query (or `deployment:<name>` without one). */
    readonly id: string,
    public settings: BackendSettings,
  ) {
    this.recentBlocks = new RecentSet(settings.prefixCacheBlocks);
    this.picks = new PickWindow(settings.shareWindowMs);
  }

  /** Applies changed settings from a reload; what was learned stays. */
  update(settings: BackendSettings): void {
    if (settings.shareWindowMs !== this.settings.shareWindowMs) {
      this.picks = new PickWindow(settings.shareWindowMs);
      this.picksByDeployment.clear();
    }
    this.settings = settings;
  }

  /** Whether the last reading may be used for routing now: a successful scrape within `staleAfterMs`. */
  isFresh(now: number): boolean {
    return this.reading !== null && this.error === null && now - this.scrapedAt <= this.settings.staleAfterMs;
  }

  /** Prompt tokens the gateway sent to the server and has no first byte for yet (its deployments' counts added). */
  gatewayPrefill(): number {
    let total = 0;
    for (const state of this.states) total += state.prefillOutstanding;
    return total;
  }

  /** Requests in flight from this gateway to the server (its deployments' counts added). */
  gatewayInFlight(): number {
    let total = 0;
    for (const state of this.states) total += state.inFlight;
    return total;
  }

  recordReading(reading: EngineReading, now: number): void {
    const previous = this.reading;
    this.notePromptRate(previous, reading, now);
    this.prefixHitRate = reading.prefixHitRate ?? counterRate(previous, reading) ?? this.prefixHitRate;
    this.reading = reading;
    this.scrapedAt = now;
    this.error = null;
    this.sentSinceScrape = 0;
  }

  /**
   * Only intervals in which requests waited count: then the server prefilled as fast as it could,
   * so the rate measures its capacity rather than how little it was sent.
   */
  private notePromptRate(previous: EngineReading | null, current: EngineReading, now: number): void {
    const before = previous?.promptTokens ?? null;
    const after = current.promptTokens;
    const seconds = (now - this.scrapedAt) / 1000;
    if (before === null || after === null || after < before || seconds <= 0 || this.error !== null) return;
    if ((previous!.waiting ?? 0) === 0 && (current.waiting ?? 0) === 0) return;
    const rate = (after - before) / seconds;
    if (rate > this.peakPromptRate) this.peakPromptRate = rate;
  }

  recordFailure(reason: string): void {
    this.error = reason;
  }

  /** A routing decision for this server: counts toward its queue until the next scrape and toward its share. */
  notePick(deployment: string, now: number): void {
    this.sentSinceScrape++;
    this.picks.add(now);
    let window = this.picksByDeployment.get(deployment);
    if (window === undefined) {
      window = new PickWindow(this.settings.shareWindowMs);
      this.picksByDeployment.set(deployment, window);
    }
    window.add(now);
  }

  picksInWindow(now: number): number {
    return this.picks.total(now);
  }

  deploymentPicks(deployment: string, now: number): number {
    return this.picksByDeployment.get(deployment)?.total(now) ?? 0;
  }
}

/** Hits over queries between two scrapes; the cumulative ratio for the first; null without queries. */
function counterRate(previous: EngineReading | null, current: EngineReading): number | null {
  const hits = current.prefixHits;
  const queries = current.prefixQueries;
  if (hits === null || queries === null) return null;
  const lastHits = previous?.prefixHits ?? null;
  const lastQueries = previous?.prefixQueries ?? null;
  // A counter that went down means the server restarted: start from its new totals.
  if (lastHits !== null && lastQueries !== null && queries >= lastQueries && hits >= lastHits) {
    const deltaQueries = queries - lastQueries;
    return deltaQueries > 0 ? Math.min(1, (hits - lastHits) / deltaQueries) : null;
  }
  return queries > 0 ? Math.min(1, hits / queries) : null;
}
