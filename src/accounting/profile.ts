import type { Price } from '../config/deployment-base.js';
import { parametricEnergy, gpusNeeded, lookupModelSize, DEFAULT_BATCH, type EnergyPerToken } from './energy.js';
import { DEFAULT_OWN_PUE, GRID_INTENSITY, PROVIDER_HOME, PROVIDER_PUE, WORLD_INTENSITY, regionCountry } from './grid.js';
import { GPUS, type GpuName } from './hardware.js';
import { lookupPrice } from './prices.js';

/** Which method produced an energy figure (docs/energy.md); `telemetry` comes with the DCGM fit. */
export type EnergyMethod = 'parametric' | 'cloud-estimate' | 'telemetry';

export interface EnergyProfile extends EnergyPerToken {
  readonly method: EnergyMethod;
  readonly pue: number;
  /** gCO₂e per kWh of the grid the deployment draws from. */
  readonly gPerKWh: number;
  /** Where the intensity came from: `carbon_intensity`, `grid:DE`, `region:eu-central-1→DE`, `home:US`, `world`. */
  readonly intensitySource: string;
  /** The accelerators, when known (a telemetry-only deployment need not declare `hardware`). */
  readonly gpu: GpuName | null;
  readonly gpus: number | null;
}

/**
 * The energy profile fitted from a deployment's telemetry, shared between the poller that
 * refits it and every Deployment object of that name (across config reloads). Null while
 * there is no fit.
 */
export interface FittedEnergy {
  readonly profile: EnergyProfile | null;
}

/** Everything accounting needs of a deployment, resolved once per config load. */
export interface AccountingProfile {
  /** The per-token price: the deployment's `price`, else the shipped table's; null when neither. */
  readonly price: Price | null;
  readonly priceSource: 'config' | 'table' | null;
  readonly costPerHour: number | null;
  readonly energy: EnergyProfile | null;
}

/** The deployment fields accounting reads (all optional in config). */
export interface AccountingSettings {
  readonly price?: Price | undefined;
  readonly cost_per_hour?: number | undefined;
  readonly hardware?: { readonly gpu: GpuName; readonly count: number } | undefined;
  readonly params_b?: { readonly active: number; readonly total?: number | undefined } | undefined;
  readonly batch_size?: number | undefined;
  readonly pue?: number | undefined;
  readonly carbon_intensity?: number | undefined;
  readonly grid?: string | undefined;
  readonly region?: string | undefined;
}

/**
 * The profile of a telemetry fit: the fitted J per token at the GPUs, with the deployment's PUE
 * and grid as the parametric profile has them (or as they would be without `hardware`).
 */
export function telemetryProfile(provider: string, settings: AccountingSettings, fit: EnergyPerToken, parametric: EnergyProfile | null): EnergyProfile {
  const site =
    parametric ?? { pue: settings.pue ?? PROVIDER_PUE[provider]?.pue ?? DEFAULT_OWN_PUE, ...intensity(provider, settings), gpu: settings.hardware?.gpu ?? null, gpus: settings.hardware?.count ?? null };
  return {
    inputJ: fit.inputJ,
    outputJ: fit.outputJ,
    method: 'telemetry',
    pue: site.pue,
    gPerKWh: site.gPerKWh,
    intensitySource: site.intensitySource,
    gpu: site.gpu,
    gpus: site.gpus,
  };
}

export function accountingProfile(provider: string, upstreamModel: string, settings: AccountingSettings): AccountingProfile {
  let price: Price | null = settings.price ?? null;
  let priceSource: AccountingProfile['priceSource'] = price === null ? null : 'config';
  if (price === null && settings.cost_per_hour === undefined) {
    const listed = lookupPrice(provider, upstreamModel);
    if (listed !== null) {
      price = { input_per_1m: listed.input, output_per_1m: listed.output, ...(listed.cachedInput === undefined ? {} : { cached_input_per_1m: listed.cachedInput }) };
      priceSource = 'table';
    }
  }
  return { price, priceSource, costPerHour: settings.cost_per_hour ?? null, energy: energyProfile(provider, upstreamModel, settings) };
}

function energyProfile(provider: string, upstreamModel: string, settings: AccountingSettings): EnergyProfile | null {
  const cloud = Object.hasOwn(PROVIDER_PUE, provider);
  const known = settings.params_b === undefined ? lookupModelSize(upstreamModel) : { active: settings.params_b.active, total: settings.params_b.total ?? settings.params_b.active };
  if (known === null) return null;
  let gpu: GpuName;
  let gpus: number;
  let method: EnergyMethod;
  if (settings.hardware !== undefined) {
    gpu = settings.hardware.gpu;
    gpus = settings.hardware.count;
    method = 'parametric';
  } else if (cloud) {
    // A cloud's hardware is not published: assume H100s, as many as the model needs.
    gpu = 'h100-sxm';
    gpus = gpusNeeded(known, GPUS[gpu]);
    method = 'cloud-estimate';
  } else {
    return null;
  }
  const perToken = parametricEnergy(known, gpu, gpus, settings.batch_size ?? DEFAULT_BATCH);
  const pue = settings.pue ?? (cloud ? PROVIDER_PUE[provider]!.pue : DEFAULT_OWN_PUE);
  return { ...perToken, method, pue, ...intensity(provider, settings), gpu, gpus };
}

function intensity(provider: string, settings: AccountingSettings): { gPerKWh: number; intensitySource: string } {
  if (settings.carbon_intensity !== undefined) return { gPerKWh: settings.carbon_intensity, intensitySource: 'carbon_intensity' };
  if (settings.grid !== undefined && GRID_INTENSITY[settings.grid] !== undefined) return { gPerKWh: GRID_INTENSITY[settings.grid]!.gPerKWh, intensitySource: `grid:${settings.grid}` };
  const country = regionCountry(settings.region ?? null);
  if (country !== null && GRID_INTENSITY[country] !== undefined) return { gPerKWh: GRID_INTENSITY[country]!.gPerKWh, intensitySource: `region:${settings.region}→${country}` };
  const home = PROVIDER_HOME[provider];
  if (home !== undefined) return { gPerKWh: GRID_INTENSITY[home]!.gPerKWh, intensitySource: `home:${home}` };
  return { gPerKWh: WORLD_INTENSITY.gPerKWh, intensitySource: 'world' };
}

/** Facility watt-hours of a request of these token counts (cached prompt tokens skip prefill). */
export function energyWh(energy: EnergyProfile, uncachedPromptTokens: number, completionTokens: number): number {
  return ((energy.inputJ * uncachedPromptTokens + energy.outputJ * completionTokens) * energy.pue) / 3600;
}

/** Grams CO₂e of `wh` watt-hours on the profile's grid. */
export function co2eGrams(energy: EnergyProfile, wh: number): number {
  return (wh / 1000) * energy.gPerKWh;
}
