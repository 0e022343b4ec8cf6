import type { RetryConfig, StrategyName } from '../config/schema.js';
import type { Deployment } from './deployment.js';
import { STRATEGY_PICKERS, type Cursor, type Placement, type Strategy, type StrategyOptions } from './strategies.js';

const DEFAULT_STRATEGY_OPTIONS: StrategyOptions = { minimize: 'energy', maxTtftMs: null };

/** A model name clients use, its deployments, how one is chosen, and where to go when all fail. */
export class ModelAlias {
  private readonly strategy: Strategy;
  private readonly cursor: Cursor = { next: 0 };

  constructor(
    readonly name: string,
    readonly deployments: readonly Deployment[],
    /** Deployments configured but not usable (e.g. a missing key), with the reason; for error messages. */
    readonly unusable: readonly string[],
    readonly strategyName: StrategyName,
    readonly retry: RetryConfig,
    readonly fallbacks: readonly string[],
    readonly contextWindowFallbacks: readonly string[],
    readonly strategyOptions: StrategyOptions = DEFAULT_STRATEGY_OPTIONS,
  ) {
    this.strategy = STRATEGY_PICKERS[strategyName];
  }

  /** The deployment the alias's strategy picks for this placement, or null when none is usable. */
  pickDeployment(placement: Placement): Deployment | null {
    return this.strategy(this.deployments, placement, this.cursor, this.strategyOptions);
  }

  /** When the first deployment may be available again (epoch ms). */
  availableAt(now: number): number {
    let soonest = Infinity;
    for (const deployment of this.deployments) soonest = Math.min(soonest, deployment.availableAt(now));
    return soonest;
  }
}
