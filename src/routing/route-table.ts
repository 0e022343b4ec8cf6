import type { Config, ModelConfig } from '../config/schema.js';
import { deploymentName } from '../config/schema.js';
import { PROVIDERS } from '../providers/index.js';
import type { ProviderModule } from '../providers/types.js';
import { Deployment } from './deployment.js';
import { DeploymentStates } from './deployment-state.js';
import { ModelAlias } from './model-alias.js';
import type { HealthCheckSettings } from './health-checker.js';
import { accountingProfile } from '../accounting/profile.js';

/** Every alias of a config with its live deployments; built once per config (re)load. */
export class RouteTable {
  private constructor(
    readonly aliases: ReadonlyMap<string, ModelAlias>,
    /** Warnings worth logging at load: deployments that cannot be used. */
    readonly warnings: readonly string[],
    /** Deployments with an active health check configured. */
    readonly healthChecks: readonly { deployment: Deployment; settings: HealthCheckSettings }[],
  ) {}

  /** `states` carries what the router learned of each deployment over from the previous table. */
  static build(config: Config, states: DeploymentStates = new DeploymentStates()): RouteTable {
    const aliases = new Map<string, ModelAlias>();
    const warnings: string[] = [];
    const checks: { deployment: Deployment; settings: HealthCheckSettings }[] = [];
    for (const model of config.models) aliases.set(model.name, buildAlias(config, model, states, warnings, checks));
    return new RouteTable(aliases, warnings, checks);
  }

  get(alias: string): ModelAlias | undefined {
    return this.aliases.get(alias);
  }

  /** Closes every deployment's connections once their in-flight calls are done. */
  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const alias of this.aliases.values()) for (const deployment of alias.deployments) closing.push(deployment.adapter.close());
    await Promise.allSettled(closing);
  }
}

function buildAlias(
  config: Config,
  model: ModelConfig,
  states: DeploymentStates,
  warnings: string[],
  checks: { deployment: Deployment; settings: HealthCheckSettings }[],
): ModelAlias {
  const deployments: Deployment[] = [];
  const unusable: string[] = [];
  model.deployments.forEach((settings, index) => {
    const name = deploymentName(model.name, index, settings);
    // The config schema is a union over PROVIDERS keyed by `provider`, so the module and the settings match.
    const provider = PROVIDERS[settings.provider] as ProviderModule;
    const reason = provider.unusableReason(settings);
    if (reason !== null) {
      unusable.push(`${name}: ${reason}`);
      warnings.push(`deployment ${name} of model ${model.name} is not used: ${reason}`);
      return;
    }
    const state = states.stateFor(name, {
      breaker: config.resilience.breaker,
      latencyDecayMs: model.routing.latency_decay_ms,
      rpm: settings.rpm ?? null,
      tpm: settings.tpm ?? null,
      rateLimitCooldownMs: config.resilience.rate_limit_cooldown_ms,
    });
    const adapter = provider.create(settings, { deploymentName: name, timeouts: settings.timeouts });
    const traits = {
      weight: settings.weight,
      priority: settings.priority,
      region: settings.region ?? null,
      tags: settings.tags,
      maxConcurrency: settings.max_concurrency ?? null,
      price: settings.price ?? null,
      accounting: accountingProfile(provider.name, provider.upstreamModel(settings), settings),
    };
    const chatFields = provider.chatFieldsFor?.(settings) ?? provider.chatFields;
    const deployment = new Deployment(name, model.name, provider.name, provider.upstreamModel(settings), adapter, settings.timeouts, chatFields, traits, state);
    deployments.push(deployment);
    if (settings.health_check !== undefined) checks.push({ deployment, settings: settings.health_check });
  });
  return new ModelAlias(
    model.name,
    deployments,
    unusable,
    model.routing.strategy,
    model.retry ?? config.resilience.retry,
    model.fallbacks,
    model.context_window_fallbacks,
    { minimize: model.routing.minimize, maxTtftMs: model.routing.max_ttft_ms ?? null },
  );
}
