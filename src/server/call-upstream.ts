import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { Operation } from '../protocols/openai/operations.js';
import type { EventStream } from '../providers/types.js';
import { BatchIterator, eventBatches } from '../providers/event-batches.js';
import { residencyOf, type Residency } from '../guard/data-policy.js';
import type { Deployment } from '../routing/deployment.js';
import type { ModelAlias } from '../routing/model-alias.js';
import { backoffMs, isContextWindowError, isRetryable } from '../routing/retry-policy.js';
import type { Placement } from '../routing/strategies.js';
import { Attempt } from './attempt.js';
import type { Stage } from './lifecycle.js';
import type { RequestContext, UpstreamResult } from './request-context.js';
import { estimatePromptTokens, requestedOutputTokens } from '../core/request-size.js';
import { fleetSnapshotOf } from '../fleet/fleet.js';
import { RequestFleet } from '../fleet/placement.js';

/** Output tokens assumed for routing estimates when the request sets no limit. */
const DEFAULT_OUTPUT_TOKENS = 256;

/**
 * Places the request on a deployment and calls it; on a retryable failure tries again —
 * another deployment when one is available, after a jittered backoff — then the alias's
 * fallbacks, all within the retry budget. A stream counts as started only once its first event
 * has arrived, so a stream that fails before its first byte is retried like any other call.
 */
export function callUpstream(operation: Operation): Stage {
  return function callUpstream(ctx) {
    return new UpstreamRouting(ctx, operation).run();
  };
}

class UpstreamRouting implements Placement {
  now = Date.now();
  readonly promptTokens: number;
  readonly outputTokens: number;
  private readonly budgetEnd: number;
  private readonly pinnedDeployment: string | null;
  private readonly pinnedRegion: string | null;
  /** Regions the key's and team's data policy allow; null: any. Fallbacks included. */
  private readonly residency: Residency | null;
  private readonly tried: Deployment[] = [];
  /** Second pass: when every deployment was tried, tried ones may be tried again. */
  private allowTried = false;
  private chain: readonly string[];
  private chainIndex = 0;
  private usedContextFallback = false;
  private fleetView: RequestFleet | undefined = undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly operation: Operation,
  ) {
    const requested = ctx.alias!;
    this.budgetEnd = this.now + requested.retry.budget_ms;
    this.promptTokens = estimatePromptTokens(ctx.bodyBytes);
    this.outputTokens = requestedOutputTokens(ctx.body) ?? (operation.name === 'embeddings' ? 0 : DEFAULT_OUTPUT_TOKENS);
    const pinning = ctx.runtime.config.resilience.allow_pinning;
    this.pinnedDeployment = pinning ? headerValue(ctx, 'x-stellwerk-deployment') : null;
    this.pinnedRegion = pinning ? headerValue(ctx, 'x-stellwerk-region') : null;
    this.chain = this.pinnedDeployment === null ? requested.fallbacks : [];
    this.residency = residencyOf(ctx.identity);
  }

  /** Built only when a fleet strategy asks: other strategies pay nothing for it. */
  get fleet(): RequestFleet {
    return (this.fleetView ??= new RequestFleet(fleetSnapshotOf(this.ctx.runtime.routes), this.ctx.body));
  }

  usable(deployment: Deployment): boolean {
    if (this.pinnedDeployment !== null && deployment.name !== this.pinnedDeployment) return false;
    if (this.pinnedRegion !== null && deployment.traits.region !== this.pinnedRegion) return false;
    if (this.residency !== null && !this.residency.allows(deployment.traits.region)) return false;
    if (!this.allowTried && this.tried.includes(deployment)) return false;
    return deployment.isAvailable(this.now, this.promptTokens + this.outputTokens) && this.operation.supportedBy(deployment.adapter, this.ctx);
  }

  async run(): Promise<void> {
    let alias = this.ctx.alias!;
    this.checkServable(alias);
    let attemptsHere = 0;
    let lastError: GatewayError | null = null;
    for (;;) {
      this.now = Date.now();
      const deployment = this.pick(alias);
      if (deployment === null) {
        const next = this.nextAlias();
        if (next === null) throw lastError ?? this.nothingAvailable(alias);
        alias = next;
        attemptsHere = 0;
        continue;
      }
      this.operation.fitTo?.(deployment, this.ctx);
      attemptsHere++;
      this.ctx.attempts++;
      try {
        await this.attempt(deployment);
        if (alias !== this.ctx.alias) {
          this.ctx.fallback = alias;
          this.ctx.headers.set('x-stellwerk-fallback', alias.name);
        }
        return;
      } catch (thrown) {
        const error = toGatewayError(thrown);
        if (error.code === 'client_closed_request') throw error;
        lastError = error;
        this.tried.push(deployment);
        if (isContextWindowError(error) && this.switchToContextFallbacks()) {
          alias = this.nextAlias() ?? alias;
          attemptsHere = 0;
          continue;
        }
        if (!isRetryable(error, alias.retry)) throw error;
        if (attemptsHere >= alias.retry.attempts) {
          const next = this.nextAlias();
          if (next === null) throw error;
          alias = next;
          attemptsHere = 0;
          continue;
        }
        await this.backoff(attemptsHere, alias, error);
      }
    }
  }

  private pick(alias: ModelAlias): Deployment | null {
    this.allowTried = false;
    const fresh = alias.pickDeployment(this);
    if (fresh !== null) return fresh;
    this.allowTried = true;
    return alias.pickDeployment(this);
  }

  /** One call: resolves when the answer (or a stream's first event) is in hand. */
  private async attempt(deployment: Deployment): Promise<void> {
    const ctx = this.ctx;
    ctx.deployment = deployment;
    ctx.headers.set('x-stellwerk-deployment', deployment.name);
    ctx.headers.set('x-stellwerk-attempts', String(ctx.attempts));
    const timeout = Math.max(1, Math.min(deployment.timeouts.total_ms, this.budgetEnd - this.now));
    const attempt = new Attempt(ctx, deployment, this.now, this.promptTokens + this.outputTokens, timeout);
    ctx.attempt = attempt;
    try {
      let result: UpstreamResult = await this.operation.call(deployment.adapter, ctx, attempt.call);
      if (result.kind === 'stream') result = { kind: 'stream', events: await startedStream(result.events) };
      attempt.markFirstByte(Date.now());
      ctx.result = result;
    } catch (thrown) {
      const error = toGatewayError(thrown);
      attempt.finish(error, Date.now());
      ctx.attempt = null;
      throw error;
    }
  }

  /** Waits before the next attempt: jittered backoff, never past the budget; a client leaving ends it. */
  private async backoff(attemptsHere: number, alias: ModelAlias, error: GatewayError): Promise<void> {
    const wait = backoffMs(attemptsHere, alias.retry);
    if (Date.now() + wait >= this.budgetEnd) throw error;
    if (wait === 0) return;
    try {
      await sleep(wait, undefined, { signal: this.ctx.abort.signal });
    } catch {
      throw new GatewayError('client_closed_request');
    }
  }

  private nextAlias(): ModelAlias | null {
    while (this.chainIndex < this.chain.length) {
      const next = this.ctx.runtime.routes.get(this.chain[this.chainIndex++]!);
      if (next !== undefined) {
        this.tried.length = 0;
        return next;
      }
    }
    return null;
  }

  private switchToContextFallbacks(): boolean {
    const fallbacks = this.ctx.alias!.contextWindowFallbacks;
    if (this.usedContextFallback || fallbacks.length === 0 || this.pinnedDeployment !== null) return false;
    this.usedContextFallback = true;
    this.chain = fallbacks;
    this.chainIndex = 0;
    return true;
  }

  /** Refuses up front what no deployment could ever serve: an unknown pin, an unsupported endpoint. */
  private checkServable(alias: ModelAlias): void {
    if (this.pinnedDeployment !== null && !alias.deployments.some((deployment) => deployment.name === this.pinnedDeployment)) {
      throw new GatewayError('invalid_request', {
        message: `The model "${alias.name}" has no deployment "${this.pinnedDeployment}".`,
        param: 'x-stellwerk-deployment',
      });
    }
    if (this.pinnedRegion !== null && !alias.deployments.some((deployment) => deployment.traits.region === this.pinnedRegion)) {
      throw new GatewayError('invalid_request', {
        message: `The model "${alias.name}" has no deployment in region "${this.pinnedRegion}".`,
        param: 'x-stellwerk-region',
      });
    }
    if (alias.deployments.length > 0 && !alias.deployments.some((deployment) => this.operation.supportedBy(deployment.adapter, this.ctx))) {
      throw new GatewayError('unsupported_endpoint', {
        message: `The model "${alias.name}" is not served for ${this.operation.name}${this.ctx.stream ? ' (streamed)' : ''} here.`,
        param: 'model',
      });
    }
  }

  /** Nothing usable: 429 when the deployments are cooling down after their upstream's 429, else 503. */
  private nothingAvailable(alias: ModelAlias): GatewayError {
    if (this.residency !== null) {
      return new GatewayError('residency_unavailable', {
        message: `No deployment of "${this.ctx.alias!.name}" or its fallbacks in the regions this key's data policy allows (${this.residency.describe()}) is available; the request was sent nowhere.`,
      });
    }
    const at = alias.availableAt(this.now);
    const headers = Number.isFinite(at) ? { 'retry-after': String(Math.max(1, Math.ceil((at - this.now) / 1000))) } : undefined;
    const extra = headers === undefined ? {} : { headers };
    if (alias.deployments.length > 0 && alias.deployments.every((deployment) => deployment.state.cooldownUntil > this.now)) {
      return new GatewayError('upstream_rate_limited', {
        message: `Every deployment of "${alias.name}" is rate-limited by its upstream; retry after ${extra.headers?.['retry-after'] ?? 'a while'} s.`,
        ...extra,
      });
    }
    const why = alias.unusable.length > 0 ? ` Not usable: ${alias.unusable.join('; ')}.` : '';
    return new GatewayError('no_healthy_deployment', { message: `No deployment of "${alias.name}" is available right now.${why}`, ...extra });
  }
}

/**
 * Waits for a stream's first events, so that a failure before them can still be retried; the
 * stream handed on gives them first (one at a time or in batches) and then the rest.
 */
async function startedStream<T>(events: EventStream<T>): Promise<EventStream<T>> {
  const batches = eventBatches(events);
  return new BatchIterator(batches, await batches.nextBatch());
}

function headerValue(ctx: RequestContext, name: string): string | null {
  const value = ctx.req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}
