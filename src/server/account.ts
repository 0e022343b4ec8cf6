import { pino } from 'pino';
import type { FieldLines } from '../telemetry/logger.js';
import type { GatewayError } from '../core/errors.js';
import type { Usage } from '../core/types.js';
import { jsonString } from '../core/json-string.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { RequestContext } from './request-context.js';
import { settleAccounting } from '../accounting/request.js';

/**
 * The end of every request: metrics and one log line (id, alias, deployment, status, latency,
 * tokens). No prompt, no completion, no key is ever part of it. Runs after the answer is sent.
 */
export function accountRequest(ctx: RequestContext, metrics: GatewayMetrics, lines: FieldLines): void {
  const durationMs = ctx.elapsedMs();
  if (ctx.status === 0) ctx.status = ctx.error?.code === 'client_closed_request' ? 499 : ctx.res.statusCode;
  const alias = ctx.alias?.name ?? '';
  const deployment = ctx.deployment?.name ?? '';
  const status = ctx.status;
  const series = metrics.route(ctx.endpoint, alias, deployment);
  series.requests(status).inc();
  series.duration.observe(durationMs / 1000);
  if (ctx.ttftMs !== null) series.ttft.observe(ctx.ttftMs / 1000);
  const error = ctx.error;
  if (error !== null && deployment !== '' && error.code.startsWith('upstream_')) {
    metrics.upstreamErrors.inc({ deployment, code: error.code });
  }
  for (const attempt of ctx.attemptLog) metrics.attemptSeries(attempt.deployment, attempt.outcome).inc();
  if (ctx.fallback !== null) metrics.fallbacks.inc({ alias, fallback: ctx.fallback.name });
  const pii = ctx.pii;
  if (pii !== null) for (const [type, count] of Object.entries(pii.counts)) metrics.piiDetections.inc({ type, mode: pii.mode }, count);
  const usage = ctx.usage;
  if (usage !== null) {
    const tokens = series.tokens;
    tokens.prompt.inc(usage.prompt_tokens ?? 0);
    tokens.completion.inc(usage.completion_tokens ?? 0);
  }
  const figures = settleAccounting(ctx);
  if (figures !== null) {
    const accounting = series.accounting(ctx.identity.kind === 'key' ? (ctx.identity.key.team_id ?? '') : '');
    accounting.cost.inc(figures.costUsd);
    if (figures.energyWh !== null) accounting.energy.inc(figures.energyWh);
    if (figures.co2eG !== null) accounting.co2e.inc(figures.co2eG);
  }
  const level = error === null ? 'info' : error.level;
  if (!lines.enabled(level)) return;
  let fields = requestFields(ctx, alias, deployment, durationMs, usage, pii);
  if (error !== null) fields += errorFields(error);
  lines.write(level, fields, REQUEST_MSG);
}

const REQUEST_MSG = jsonString('request');

/** The fields of a request's line, as pino would write them (undefined ones left out). */
function requestFields(ctx: RequestContext, alias: string, deployment: string, durationMs: number, usage: Usage | null, pii: RequestContext['pii']): string {
  // An id the gateway made is a UUID (hex digits and dashes): nothing to escape.
  let fields = ',"request_id":' + (ctx.idGiven ? jsonString(ctx.id) : '"' + ctx.id + '"') + ',"endpoint":' + jsonString(ctx.endpoint);
  if (alias !== '') fields += ',"alias":' + jsonString(alias);
  if (deployment !== '') fields += ',"deployment":' + jsonString(deployment);
  if (ctx.fallback !== null) fields += ',"fallback":' + jsonString(ctx.fallback.name);
  if (ctx.attempts > 1) fields += ',"attempts":' + JSON.stringify(ctx.attemptLog);
  fields += ',"status":' + ctx.status + ',"stream":' + ctx.stream + ',"latency_ms":' + hundredths(durationMs);
  if (ctx.ttftMs !== null) fields += ',"ttft_ms":' + hundredths(ctx.ttftMs);
  if (usage?.prompt_tokens !== undefined) fields += ',"prompt_tokens":' + jsonNumber(usage.prompt_tokens);
  if (usage?.completion_tokens !== undefined) fields += ',"completion_tokens":' + jsonNumber(usage.completion_tokens);
  if (pii !== null) {
    if (Object.keys(pii.counts).length > 0) fields += ',"pii":' + JSON.stringify(pii.counts);
    fields += ',"pii_mode":' + jsonString(pii.mode);
  }
  return fields;
}

/** What went wrong: the code, and the message, or for an internal error its cause as pino's err serializer gives it. */
function errorFields(error: GatewayError): string {
  let fields = ',"error_code":' + jsonString(error.code);
  if (error.code !== 'internal_error') return fields + ',"error_message":' + jsonString(error.message);
  if (error.cause !== undefined) fields += ',"err":' + jsonValue(pino.stdSerializers.err(error.cause as Error));
  return fields;
}

/** JSON of a thrown value's serialised form; one that cannot be (cycles, bigints) as its string. */
function jsonValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return jsonString(String(value));
  }
}

/**
 * `value` rounded to hundredths, written as JSON.stringify writes the rounded number. From the
 * integer count of hundredths: turning a fraction into text takes V8's slow path (≈0.2 µs a line).
 */
export function hundredths(value: number): string {
  const count = Math.round(value * 100);
  if (!Number.isSafeInteger(count) || count < 0) return jsonNumber(count / 100);
  const whole = Math.floor(count / 100);
  const rest = count - whole * 100;
  if (rest === 0) return String(whole);
  if (rest < 10) return whole + '.0' + rest;
  return whole + '.' + (rest % 10 === 0 ? rest / 10 : rest);
}

/** As pino writes a number: non-finite ones as null. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
