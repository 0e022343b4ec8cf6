import type { Config } from '../config/schema.js';
import { deploymentName } from '../config/schema.js';
import { parsePrometheusText, type Sample } from '../fleet/prometheus-text.js';
import type { Deployment } from '../routing/deployment.js';
import type { RouteTable } from '../routing/route-table.js';
import type { Logger } from '../telemetry/logger.js';
import type { TelemetrySettings } from './config.js';
import { telemetryProfile, type AccountingSettings, type EnergyProfile, type FittedEnergy } from './profile.js';
import { fitEnergy, type EnergyFit, type TelemetrySample } from './telemetry-fit.js';

/**
 * The `telemetry` energy method's poller (docs/energy.md): for every deployment that declares
 * `telemetry`, it scrapes the GPUs' DCGM exporter and the inference server's token counters on
 * a timer, off the request path, and refits J per token and idle watts over the window. A
 * deployment's scraper outlives config reloads (as its DeploymentState does) unless its
 * `telemetry` settings change; failures are logged once per change of state and never throw.
 */

/** DCGM fields: energy since boot per GPU (mJ), else power (W) integrated over time. */
const DCGM_ENERGY = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION';
const DCGM_POWER = 'DCGM_FI_DEV_POWER_USAGE';

/** Token counters of the inference servers, tried in this order: [prompt, generated]. */
export const TOKEN_COUNTERS: readonly { readonly server: string; readonly prompt: string; readonly output: string }[] = [
  { server: 'vllm', prompt: 'vllm:prompt_tokens_total', output: 'vllm:generation_tokens_total' },
  { server: 'sglang', prompt: 'sglang:prompt_tokens_total', output: 'sglang:generation_tokens_total' },
  { server: 'tgi', prompt: 'tgi_request_input_length_sum', output: 'tgi_request_generated_tokens_sum' },
];

/** Largest metrics text read (a DCGM exporter of 8 GPUs writes some tens of kB). */
const MAX_TEXT_BYTES = 8 * 1024 * 1024;

/** The GPUs' reading: per-GPU energy counters (J), or their summed power (W). */
export type GpuReading = { readonly kind: 'energy'; readonly joules: ReadonlyMap<string, number> } | { readonly kind: 'power'; readonly watts: number };

/** Which GPUs of an exporter a series belongs to, and whether the `gpus` filter keeps it. */
function gpuKey(labels: Record<string, string>, filter: TelemetrySettings['gpus']): string | null {
  const key = labels.gpu ?? labels.UUID ?? labels.uuid ?? labels.device ?? '';
  if (filter === undefined) return key;
  const kept = filter.some((entry) => (typeof entry === 'number' ? labels.gpu === String(entry) : labels.UUID === entry || labels.gpu === entry));
  return kept ? key : null;
}

/** The energy (or power) of the selected GPUs from a DCGM exporter's samples; null when it has neither field. */
export function readGpus(samples: readonly Sample[], filter: TelemetrySettings['gpus']): GpuReading | null {
  const joules = new Map<string, number>();
  let watts = 0;
  let powerSeen = false;
  for (const sample of samples) {
    if (sample.name !== DCGM_ENERGY && sample.name !== DCGM_POWER) continue;
    const key = gpuKey(sample.labels, filter);
    if (key === null || !Number.isFinite(sample.value)) continue;
    if (sample.name === DCGM_ENERGY) joules.set(key, (joules.get(key) ?? 0) + sample.value / 1000);
    else {
      watts += sample.value;
      powerSeen = true;
    }
  }
  if (joules.size > 0) return { kind: 'energy', joules };
  return powerSeen ? { kind: 'power', watts } : null;
}

/** Cumulative prompt and generated tokens from an inference server's samples (summed over label sets); null when none is known. */
export function readTokens(samples: readonly Sample[]): { promptTokens: number; outputTokens: number; server: string } | null {
  for (const counters of TOKEN_COUNTERS) {
    let prompt = 0;
    let output = 0;
    let seen = false;
    for (const sample of samples) {
      if (sample.name === counters.prompt) {
        prompt += sample.value;
        seen = true;
      } else if (sample.name === counters.output) output += sample.value;
    }
    if (seen) return { promptTokens: prompt, outputTokens: output, server: counters.server };
  }
  return null;
}

/**
 * One deployment's telemetry: the samples of its window, the fit, and the profile handed to
 * its Deployment objects. The energy series is kept as its own running total, so that per-GPU
 * counter resets and power integration look the same to the fit.
 */
export class DeploymentTelemetry {
  readonly cell: { profile: EnergyProfile | null } = { profile: null };
  fit: EnergyFit | null = null;
  private readonly samples: TelemetrySample[] = [];
  private energyJ = 0;
  private lastGpus: ReadonlyMap<string, number> | null = null;
  private lastPower: { t: number; watts: number } | null = null;
  private broken = true;
  private timer: NodeJS.Timeout | null = null;
  private scraping = false;
  private readonly stopped = new AbortController();
  /** The last failure's text, or 'ok': a failure is logged when it differs from the previous state. */
  private state = 'starting';

  constructor(
    readonly name: string,
    readonly settings: TelemetrySettings,
    /** Builds the profile of a fit (PUE and grid from the current config). */
    public profileOf: (fit: EnergyFit) => EnergyProfile,
    private readonly logger: Logger,
  ) {}

  start(): void {
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.settings.interval_ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stopped.abort();
  }

  /** Rebuilds the profile from the current fit (after a reload changed PUE or grid). */
  refreshProfile(): void {
    this.cell.profile = this.fit === null ? null : this.profileOf(this.fit);
  }

  /** One scrape of both endpoints; a scrape still running when the timer fires is not doubled. */
  async scrape(): Promise<void> {
    if (this.scraping || this.stopped.signal.aborted) return;
    this.scraping = true;
    try {
      const [gpuText, serverText] = await Promise.all([this.fetchText(this.settings.dcgm_url), this.fetchText(this.settings.metrics_url)]);
      const gpus = readGpus(parsePrometheusText(gpuText), this.settings.gpus);
      if (gpus === null) throw new Error(`${host(this.settings.dcgm_url)} has neither ${DCGM_ENERGY} nor ${DCGM_POWER} for the selected GPUs`);
      const tokens = readTokens(parsePrometheusText(serverText));
      if (tokens === null) throw new Error(`${host(this.settings.metrics_url)} has no vLLM, SGLang or TGI token counters`);
      this.record(Date.now(), gpus, tokens.promptTokens, tokens.outputTokens);
      this.setState('ok');
    } catch (error) {
      if (this.stopped.signal.aborted) return;
      // Integrated power cannot bridge a missed scrape.
      this.lastPower = null;
      this.setState((error as Error).message);
    } finally {
      this.scraping = false;
    }
  }

  /** Adds one reading to the window and refits. Exposed for tests of the bookkeeping. */
  record(t: number, gpus: GpuReading, promptTokens: number, outputTokens: number): void {
    let reset = this.broken;
    if (gpus.kind === 'energy') {
      const last = this.lastGpus;
      let delta = 0;
      if (last !== null && last.size === gpus.joules.size) {
        for (const [gpu, joules] of gpus.joules) {
          const before = last.get(gpu);
          if (before === undefined || joules < before) reset = true;
          else delta += joules - before;
        }
      } else reset = true;
      this.lastGpus = gpus.joules;
      // The exporter refreshes its fields on its own clock (dcgm-exporter: every 30 s by default);
      // an unchanged counter is a stale reading, so the interval is extended to the next change.
      if (!reset && delta === 0 && this.samples.length > 0) return;
      if (!reset) this.energyJ += delta;
    } else {
      const last = this.lastPower;
      if (last === null || t <= last.t) reset = true;
      else this.energyJ += ((last.watts + gpus.watts) / 2) * ((t - last.t) / 1000);
      this.lastPower = { t, watts: gpus.watts };
    }
    this.broken = false;
    this.samples.push({ t, energyJ: this.energyJ, promptTokens, outputTokens, reset });
    const oldest = t - this.settings.window_s * 1000;
    let drop = 0;
    while (drop < this.samples.length - 1 && this.samples[drop]!.t < oldest) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    this.updateFit(fitEnergy(this.samples));
  }

  private updateFit(fit: EnergyFit | null): void {
    if ((fit === null) !== (this.fit === null)) {
      if (fit === null) this.logger.info({ deployment: this.name }, 'telemetry: no energy fit over the window; using the configured energy model');
      else {
        const coefficients = { input_j: round(fit.inputJ), output_j: round(fit.outputJ), idle_w: round(fit.idleW), intervals: fit.intervals };
        this.logger.info({ deployment: this.name, ...coefficients }, 'telemetry: energy fitted from GPU telemetry');
      }
    }
    this.fit = fit;
    this.refreshProfile();
  }

  private setState(state: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    if (state !== 'ok') this.logger.warn({ deployment: this.name, reason: state }, 'telemetry scrape failed; the fit keeps its window and ages out');
    else if (previous !== 'starting') this.logger.info({ deployment: this.name }, 'telemetry scrape works again');
  }

  private async fetchText(url: string): Promise<string> {
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(this.settings.timeout_ms)]);
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: 'text/plain;version=0.0.4' } });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.settings.timeout_ms} ms` : ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
      throw new Error(`${host(url)}: ${reason}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${host(url)} answered ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_TEXT_BYTES) {
      await response.body?.cancel();
      throw new Error(`${host(url)}: metrics text larger than ${MAX_TEXT_BYTES} bytes`);
    }
    return response.text();
  }
}

/** Host and path of a metrics URL, for logs: never its credentials or query. */
function host(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/** Every deployment's telemetry, kept by name across config reloads. */
export class TelemetryPoller {
  private readonly byName = new Map<string, { key: string; telemetry: DeploymentTelemetry }>();

  constructor(private readonly logger: Logger) {}

  /**
   * Starts scrapers for the config's deployments with `telemetry`, keeps those whose settings
   * did not change, stops the rest, and hands each Deployment of `routes` its fitted profile.
   */
  configure(config: Config, routes: RouteTable): void {
    const seen = new Set<string>();
    for (const model of config.models) {
      const deployments = routes.get(model.name)?.deployments ?? [];
      model.deployments.forEach((settings, index) => {
        if (settings.telemetry === undefined) return;
        const name = deploymentName(model.name, index, settings);
        const deployment = deployments.find((candidate) => candidate.name === name);
        if (deployment === undefined) return;
        seen.add(name);
        this.attach(deployment, settings.telemetry, settings);
      });
    }
    for (const [name, entry] of this.byName) {
      if (seen.has(name)) continue;
      entry.telemetry.stop();
      this.byName.delete(name);
    }
  }

  /** The telemetry of a deployment (for tests and diagnostics). */
  get(name: string): DeploymentTelemetry | undefined {
    return this.byName.get(name)?.telemetry;
  }

  stop(): void {
    for (const entry of this.byName.values()) entry.telemetry.stop();
    this.byName.clear();
  }

  private attach(deployment: Deployment, settings: TelemetrySettings, accounting: AccountingSettings): void {
    const key = JSON.stringify(settings);
    const profileOf = (fit: EnergyFit) => telemetryProfile(deployment.provider, accounting, fit, deployment.traits.accounting?.energy ?? null);
    let entry = this.byName.get(deployment.name);
    if (entry !== undefined && entry.key !== key) {
      entry.telemetry.stop();
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { key, telemetry: new DeploymentTelemetry(deployment.name, settings, profileOf, this.logger) };
      this.byName.set(deployment.name, entry);
      entry.telemetry.start();
    } else {
      entry.telemetry.profileOf = profileOf;
      entry.telemetry.refreshProfile();
    }
    deployment.telemetry = entry.telemetry.cell satisfies FittedEnergy;
  }
}
