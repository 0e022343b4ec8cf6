import type { Price } from '../config/deployment-base.js';
import type { Usage } from '../core/types.js';

/** Prompt tokens served from the provider's cache (OpenAI's `prompt_tokens_details.cached_tokens`), at most all of them. */
export function cachedTokens(usage: Usage): number {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return typeof cached === 'number' && cached > 0 ? Math.min(cached, usage.prompt_tokens ?? 0) : 0;
}

/**
 * USD of a request's tokens at a per-million price: uncached prompt tokens at the input price,
 * cached ones at the cached-input price (the input price when none is given), completion
 * tokens (reasoning included, as providers bill them) at the output price.
 */
export function tokenCost(price: Price, usage: Usage): number {
  const prompt = usage.prompt_tokens ?? 0;
  const completion = usage.completion_tokens ?? 0;
  const cached = cachedTokens(usage);
  const cachedRate = price.cached_input_per_1m ?? price.input_per_1m;
  return ((prompt - cached) * price.input_per_1m + cached * cachedRate + completion * price.output_per_1m) / 1_000_000;
}

/**
 * USD of a request on own GPUs priced by the hour: the hour price over the time the request
 * kept the deployment busy, shared with the requests in flight beside it. Idle hours are not
 * put on any request (docs/accounting.md).
 */
export function busyTimeCost(costPerHour: number, busyMs: number, concurrent: number): number {
  return (costPerHour * busyMs) / 3_600_000 / Math.max(1, concurrent);
}
