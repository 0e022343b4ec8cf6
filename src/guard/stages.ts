import { GatewayError } from '../core/errors.js';
import type { Stage } from '../server/lifecycle.js';
import type { RequestContext } from '../server/request-context.js';
import type { Admission, LimitBackend, LimitScope, RateStatus } from './limits/types.js';
import type { KeyRecord, Limits, TeamRecord } from './types.js';
import { toNanos } from './types.js';
import { KEY_PREFIX } from './keys.js';
import { estimatePromptTokens, requestedOutputTokens } from '../core/request-size.js';

/**
 * The guard's stages: who is asking, may they use this model, and do their limits and budget
 * admit the request. No store query: keys live in memory, counters in memory or Redis.
 */

/** Master key, a virtual key, or nobody (allowed only when no master key is configured). */
export const identify: Stage = (ctx) => {
  const presented = presentedKey(ctx);
  const runtime = ctx.runtime;
  if (presented === null) {
    if (runtime.authRequired) throw new GatewayError('invalid_api_key');
    ctx.identity = ANONYMOUS;
    return;
  }
  const directory = runtime.governance?.directory;
  // A virtual key (the common case) is looked up first, by its memoised hash; only a secret that is
  // no known key is compared with the master key (a hash per comparison, constant time).
  if (directory !== undefined && presented.startsWith(KEY_PREFIX)) {
    const identity = directory.resolveKnown(presented, Date.now());
    if (identity !== null) {
      ctx.identity = identity;
      return;
    }
  }
  if (runtime.isMasterKey(presented)) {
    ctx.identity = { kind: 'master' };
    return;
  }
  // Without a master key the gateway is open: SDKs insist on sending some key, and anything that
  // is not a virtual key is simply nobody. A virtual key is still checked (a revoked one is refused).
  if (!runtime.authRequired && !presented.startsWith(KEY_PREFIX)) {
    ctx.identity = ANONYMOUS;
    return;
  }
  if (directory === undefined) throw new GatewayError('invalid_api_key');
  ctx.identity = directory.resolve(presented, Date.now());
};

const ANONYMOUS = Object.freeze({ kind: 'anonymous' as const });

function presentedKey(ctx: RequestContext): string | null {
  const authorization = ctx.req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    return match === null ? null : match[1]!.trim();
  }
  const apiKey = ctx.req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
}

/** A key (and its team) may be limited to some models. */
export const authorizeModel: Stage = (ctx) => {
  const identity = ctx.identity;
  if (identity.kind !== 'key') return;
  const alias = ctx.alias!.name;
  if (!allows(identity.key.models, alias) || !allows(identity.team?.models ?? null, alias)) {
    throw new GatewayError('model_not_allowed', { message: `This API key may not use the model "${alias}".`, param: 'model' });
  }
};

function allows(models: readonly string[] | null, alias: string): boolean {
  return models === null || models.includes(alias);
}

/** Output tokens reserved when the request sets no limit. */
const DEFAULT_OUTPUT_RESERVE = 1024;

/**
 * Estimate → reserve: tokens and worst-case cost are charged before the upstream call.
 * Synchronous when there is nothing to reserve or the backend answers at once (in memory), so
 * that such a request waits for no microtask; a promise only where the backend does (Redis).
 */
export const reserveLimits: Stage = (ctx) => {
  const identity = ctx.identity;
  const limits = ctx.runtime.governance?.limits;
  if (identity.kind !== 'key' || limits === undefined) return;
  const scopes = scopesOf(identity.key, identity.team);
  if (scopes.length === 0) return;
  const admission = reserve(ctx, limits, scopes);
  if (admission instanceof Promise) return admission.then((answer) => applyAdmission(ctx, answer));
  applyAdmission(ctx, admission);
};

function reserve(ctx: RequestContext, limits: LimitBackend, scopes: readonly LimitScope[]): Admission | Promise<Admission> {
  const promptTokens = estimatePromptTokens(ctx.bodyBytes);
  const outputTokens = requestedOutputTokens(ctx.body) ?? DEFAULT_OUTPUT_RESERVE;
  let worstCost = 0;
  for (const deployment of ctx.alias!.deployments) worstCost = Math.max(worstCost, deployment.estimatedCost(promptTokens, outputTokens));
  return limits.admit({ scopes, tokens: promptTokens + outputTokens, costNanos: toNanos(worstCost) });
}

function applyAdmission(ctx: RequestContext, admission: Admission): void {
  setRateHeaders(ctx, admission.status);
  if (admission.ok) {
    ctx.reservation = admission.reservation;
    return;
  }
  throw refusalError(admission);
}

function refusalError(admission: Extract<Admission, { ok: false }>): GatewayError {
  const retryAfter = String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000)));
  if (admission.refusal === 'unavailable') return new GatewayError('limits_unavailable', { headers: { 'retry-after': retryAfter } });
  const who = admission.scope.startsWith('team:') ? 'team' : 'key';
  switch (admission.refusal) {
    case 'budget':
      return new GatewayError('budget_exceeded', {
        message: `The budget of this ${who} is used up for the current period.`,
        headers: { 'retry-after': retryAfter },
      });
    default: {
      const what = { rpm: 'requests per minute', tpm: 'tokens per minute', parallel: 'requests in parallel' }[admission.refusal];
      return new GatewayError('rate_limit_exceeded', {
        message: `Rate limit reached for this ${who}: ${what}. Retry after ${retryAfter} s.`,
        headers: { 'retry-after': retryAfter },
      });
    }
  }
}

/** OpenAI's rate-limit headers, for the tightest of the request's scopes. */
function setRateHeaders(ctx: RequestContext, status: RateStatus): void {
  const headers = ctx.headers;
  if (status.limitRequests !== null) {
    headers.set('x-ratelimit-limit-requests', String(status.limitRequests));
    headers.set('x-ratelimit-remaining-requests', String(Math.max(0, status.remainingRequests ?? 0)));
    headers.set('x-ratelimit-reset-requests', `${Math.ceil(status.resetRequestsMs / 1000)}s`);
  }
  if (status.limitTokens !== null) {
    headers.set('x-ratelimit-limit-tokens', String(status.limitTokens));
    headers.set('x-ratelimit-remaining-tokens', String(Math.max(0, status.remainingTokens ?? 0)));
    headers.set('x-ratelimit-reset-tokens', `${Math.ceil(status.resetTokensMs / 1000)}s`);
  }
}

/**
 * The scopes of a key's records as they were last seen. Records are replaced, never changed, when
 * a key or team changes (the directory swaps them), so a key record's scopes hold as long as its
 * team record is the same one.
 */
const scopesByKey = new WeakMap<KeyRecord, { readonly team: TeamRecord | null; readonly scopes: readonly LimitScope[] }>();

/** The scopes whose limits apply: the key's, and its team's on top. */
export function scopesOf(key: KeyRecord, team: TeamRecord | null): readonly LimitScope[] {
  const known = scopesByKey.get(key);
  if (known !== undefined && known.team === team) return known.scopes;
  const scopes: LimitScope[] = [];
  if (hasLimits(key)) scopes.push(scope(`key:${key.id}`, key));
  if (team !== null && hasLimits(team)) scopes.push(scope(`team:${team.id}`, team));
  scopesByKey.set(key, { team, scopes });
  return scopes;
}

function hasLimits(limits: Limits): boolean {
  return limits.rpm !== null || limits.tpm !== null || limits.max_parallel !== null || limits.budget !== null;
}

function scope(id: string, limits: Limits): LimitScope {
  return {
    id,
    rpm: limits.rpm,
    tpm: limits.tpm,
    maxParallel: limits.max_parallel,
    budgetNanos: limits.budget === null ? null : toNanos(limits.budget),
    budgetPeriod: limits.budget_period,
  };
}
