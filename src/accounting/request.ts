import type { Usage } from '../core/types.js';
import type { RequestContext } from '../server/request-context.js';
import { busyTimeCost, cachedTokens, tokenCost } from './cost.js';
import { co2eGrams, energyWh, type EnergyMethod } from './profile.js';
import { StreamTally } from './stream-tally.js';
import { countPromptTokens, countTokens, estimateTokens } from './tokens.js';

/** What a request cost, settled once from its usage and deployment. */
export interface RequestFigures {
  readonly costUsd: number;
  /** Null when the deployment has no energy profile. */
  readonly energyWh: number | null;
  readonly co2eG: number | null;
  readonly method: EnergyMethod | null;
  /** The usage was counted or estimated by the gateway, not reported by the provider. */
  readonly estimated: boolean;
  /** Whether there is anything to tell the client: a known price or hour cost, an energy figure, or estimated usage. */
  readonly known: boolean;
}

/** A request's accounting: the stream tally (until usage is known) and the settled figures. Lives on `ctx.accounting`. */
export class RequestAccounting {
  tally: StreamTally | null = null;
  estimated = false;
  figures: RequestFigures | null = null;
}

function accountingOf(ctx: RequestContext): RequestAccounting {
  return (ctx.accounting ??= new RequestAccounting());
}

/** Notes a streamed chunk's text while no usage is known, so that it can be counted if none ever comes. */
export function observeStreamChunk(ctx: RequestContext, chunk: unknown): void {
  if (ctx.usage !== null) return;
  const accounting = accountingOf(ctx);
  (accounting.tally ??= new StreamTally()).observe(chunk);
}

/** observeStreamChunk for a chunk passed on unparsed: its value is read only if it is ever needed. */
export function observeStreamEvent(ctx: RequestContext, event: { readonly value: unknown }): void {
  if (ctx.usage !== null) return;
  const accounting = accountingOf(ctx);
  (accounting.tally ??= new StreamTally()).observeLater(event);
}

/**
 * Fills in `ctx.usage` when the provider reported none: the prompt counted from the request,
 * the completion from what was streamed (or `completionText` of a whole answer). Marked
 * estimated. Nothing happens when usage is known or no upstream answered.
 */
export async function completeUsage(ctx: RequestContext, completionText?: string): Promise<void> {
  if (ctx.usage !== null || ctx.deployment === null || ctx.result === null) return;
  const accounting = accountingOf(ctx);
  const model = ctx.deployment.upstreamModel;
  let promptTokens: number;
  let completionTokens: number;
  try {
    promptTokens = await countPromptTokens(model, ctx.body);
    completionTokens = await countTokens(model, completionText ?? accounting.tally?.text() ?? '');
  } catch {
    // A tokenizer that cannot be loaded must not cost the request its accounting.
    promptTokens = estimateTokens(ctx.bodyBytes);
    completionTokens = estimateTokens(completionText?.length ?? accounting.tally?.chars ?? 0);
  }
  ctx.usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  accounting.estimated = true;
  accounting.tally = null;
}

/**
 * The request's cost, energy and CO₂e from its usage and deployment, computed once (later
 * calls return the same figures, so headers, the usage chunk, metrics and the store agree).
 * Null while no usage is known.
 */
export function settleAccounting(ctx: RequestContext): RequestFigures | null {
  const existing = ctx.accounting?.figures;
  if (existing !== undefined && existing !== null) return existing;
  const usage = ctx.usage;
  const deployment = ctx.deployment;
  if (usage === null || deployment === null) return null;
  const accounting = accountingOf(ctx);
  const profile = deployment.traits.accounting ?? null;
  const price = profile?.price ?? deployment.traits.price;
  let costUsd = 0;
  if (price !== null) costUsd = tokenCost(price, usage);
  else if (profile?.costPerHour !== null && profile?.costPerHour !== undefined) {
    costUsd = busyTimeCost(profile.costPerHour, ctx.elapsedMs(), deployment.state.inFlight);
  }
  // The telemetry fit, when the deployment has one, else the configured model.
  const energy = deployment.energyProfile();
  let wh: number | null = null;
  let co2e: number | null = null;
  if (energy !== null) {
    wh = energyWh(energy, (usage.prompt_tokens ?? 0) - cachedTokens(usage), usage.completion_tokens ?? 0);
    co2e = co2eGrams(energy, wh);
  }
  const known = price !== null || (profile?.costPerHour ?? null) !== null || energy !== null || accounting.estimated;
  const figures: RequestFigures = { costUsd, energyWh: wh, co2eG: co2e, method: energy?.method ?? null, estimated: accounting.estimated, known };
  accounting.figures = figures;
  return figures;
}

/** Rounded for headers and the usage chunk: money to 1e-9 USD, energy to 1e-6 Wh, CO₂e to 1e-6 g. */
function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The `stellwerk` object of a stream's usage chunk (only sent when `figures.known`). */
export function usageExtension(figures: RequestFigures): Record<string, unknown> {
  return {
    cost_usd: round(figures.costUsd, 9),
    energy_wh: figures.energyWh === null ? null : round(figures.energyWh, 6),
    co2e_g: figures.co2eG === null ? null : round(figures.co2eG, 6),
    energy_method: figures.method,
    estimated: figures.estimated,
  };
}

/** `x-stellwerk-cost-usd`, `-energy-wh`, `-co2e-g` (and `-usage-estimated`) for a whole answer. */
export function accountingHeaders(ctx: RequestContext): Record<string, string> | undefined {
  const figures = settleAccounting(ctx);
  // A deployment with no price, hour cost or energy profile has nothing to say: no headers.
  if (figures === null || !figures.known) return undefined;
  const headers: Record<string, string> = { 'x-stellwerk-cost-usd': String(round(figures.costUsd, 9)) };
  if (figures.energyWh !== null) headers['x-stellwerk-energy-wh'] = String(round(figures.energyWh, 6));
  if (figures.co2eG !== null) headers['x-stellwerk-co2e-g'] = String(round(figures.co2eG, 6));
  if (figures.estimated) headers['x-stellwerk-usage-estimated'] = 'true';
  return headers;
}

/** The usage chunk the gateway sends when the client asked for usage and the upstream gave none. */
export function syntheticUsageChunk(ctx: RequestContext, usage: Usage, figures: RequestFigures | null): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: `chatcmpl-${ctx.id}`,
    object: ctx.endpoint === 'completions' ? 'text_completion' : 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [],
    usage,
  };
  if (figures !== null && figures.known) chunk.stellwerk = usageExtension(figures);
  return chunk;
}
