import type { ChatField, FieldHandling } from '../core/types.js';
import type { Price, Timeouts } from '../config/deployment-base.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { DeploymentState } from './deployment-state.js';
import type { AccountingProfile, EnergyProfile, FittedEnergy } from '../accounting/profile.js';

/** How a deployment is described in config, beyond its provider's own fields. */
export interface DeploymentTraits {
  readonly weight: number;
  readonly priority: number;
  readonly region: string | null;
  readonly tags: readonly string[];
  readonly maxConcurrency: number | null;
  readonly price: Price | null;
  /** Price (config or shipped table), hour cost and energy model, resolved at config load. */
  readonly accounting?: AccountingProfile | null;
}

/**
 * One place a model runs, as the router sees it: the adapter that talks to it, its traits from
 * config, and its live state (in flight, circuit, latency, cooldown, rate windows), which
 * outlives config reloads.
 */
export class Deployment {
  /** Chat fields this deployment refuses (400 when present) or drops (named in a response header). */
  readonly rejectedChatFields: readonly ChatField[];
  readonly ignoredChatFields: readonly ChatField[];
  /** Set by the telemetry poller when the deployment declares `telemetry`; its profile wins while there is a fit. */
  telemetry: FittedEnergy | null = null;

  constructor(
    readonly name: string,
    readonly alias: string,
    readonly provider: string,
    readonly upstreamModel: string,
    readonly adapter: ProviderAdapter,
    readonly timeouts: Timeouts,
    readonly chatFields: Readonly<Record<ChatField, FieldHandling>>,
    readonly traits: DeploymentTraits,
    readonly state: DeploymentState,
  ) {
    const fields = Object.keys(chatFields) as ChatField[];
    this.rejectedChatFields = fields.filter((field) => chatFields[field] === 'rejected');
    this.ignoredChatFields = fields.filter((field) => chatFields[field] === 'ignored');
  }

  /** Whether a request of `tokens` (estimated) may be sent here now. */
  isAvailable(now: number, tokens: number): boolean {
    const state = this.state;
    if (state.cooldownUntil > now) return false;
    if (this.traits.maxConcurrency !== null && state.inFlight >= this.traits.maxConcurrency) return false;
    if (!state.breaker.allows(now)) return false;
    if (state.requestWindow !== null && !state.requestWindow.fits(now, 1)) return false;
    if (state.tokenWindow !== null && !state.tokenWindow.fits(now, tokens)) return false;
    return true;
  }

  /** When this deployment may be available again (epoch ms), for retry-after hints. */
  availableAt(now: number): number {
    const state = this.state;
    let at = Math.max(now, state.cooldownUntil, state.breaker.reopensAt());
    if (state.requestWindow !== null && !state.requestWindow.fits(now, 1)) at = Math.max(at, now + state.requestWindow.waitMs(now));
    return at;
  }

  /** Estimated cost in USD of a request of this size here (config or shipped price); 0 when none is known. */
  estimatedCost(promptTokens: number, outputTokens: number): number {
    const price = this.traits.accounting?.price ?? this.traits.price;
    if (price === null) return 0;
    return (promptTokens * price.input_per_1m + outputTokens * price.output_per_1m) / 1_000_000;
  }

  /** The energy model in force: the telemetry fit when there is one, else the configured (parametric or cloud) one. */
  energyProfile(): EnergyProfile | null {
    return this.telemetry?.profile ?? this.traits.accounting?.energy ?? null;
  }

  /** Expected facility Wh (or gCO₂e) of a request of this size here; null without an energy profile. */
  expectedEnergy(promptTokens: number, outputTokens: number, minimize: 'energy' | 'carbon'): number | null {
    const energy = this.energyProfile();
    if (energy === null) return null;
    const wh = ((energy.inputJ * promptTokens + energy.outputJ * outputTokens) * energy.pue) / 3600;
    return minimize === 'carbon' ? (wh / 1000) * energy.gPerKWh : wh;
  }
}
