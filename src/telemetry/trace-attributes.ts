import type { Attributes } from '@opentelemetry/api';
import type { GatewayError } from '../core/errors.js';
import { deploymentName } from '../config/schema.js';
import type { Deployment } from '../routing/deployment.js';
import type { RequestContext } from '../server/request-context.js';
import { settleAccounting } from '../accounting/request.js';

/**
 * What a span says about a request or an attempt, after the OpenTelemetry GenAI semantic
 * conventions (`gen_ai.*`) plus Stellwerk's own (`stellwerk.*`). Only names, numbers and codes:
 * never a prompt, a completion, a key or a header value. Loaded only with tracing on.
 */

/** `gen_ai.operation.name` of each model-call endpoint; other endpoints have none. */
const OPERATIONS: Readonly<Record<string, string>> = { chat: 'chat', messages: 'chat', completions: 'text_completion', embeddings: 'embeddings' };

/** The well-known `gen_ai.provider.name` values; a provider not listed keeps its own name. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure: 'azure.ai.openai',
  bedrock: 'aws.bedrock',
  gemini: 'gcp.gemini',
  vertex: 'gcp.vertex_ai',
  anthropic: 'anthropic',
  mistral: 'mistral_ai',
};

export function operationName(endpoint: string): string | undefined {
  return OPERATIONS[endpoint];
}

/** The span name the conventions ask for: `{operation} {model}`, or the endpoint's name. */
export function spanName(endpoint: string, model: string, method: string | undefined): string {
  const operation = OPERATIONS[endpoint];
  if (operation === undefined) return `${method ?? 'GET'} ${endpoint}`;
  return model === '' ? operation : `${operation} ${model}`;
}

export function attemptStartAttributes(ctx: RequestContext, deployment: Deployment, number: number): Attributes {
  const attributes: Attributes = {
    'gen_ai.request.model': deployment.upstreamModel,
    'gen_ai.provider.name': PROVIDER_NAMES[deployment.provider] ?? deployment.provider,
    'stellwerk.deployment': deployment.name,
    'stellwerk.attempt': number,
  };
  const operation = OPERATIONS[ctx.endpoint];
  if (operation !== undefined) attributes['gen_ai.operation.name'] = operation;
  const server = serverOf(ctx, deployment);
  if (server !== null) {
    attributes['server.address'] = server.address;
    attributes['server.port'] = server.port;
  }
  return attributes;
}

export function attemptEndAttributes(error: GatewayError | null, ctx: RequestContext): Attributes {
  if (error !== null) {
    const attributes: Attributes = { 'error.type': error.code };
    if (error.upstreamStatus !== null) attributes['http.response.status_code'] = error.upstreamStatus;
    return attributes;
  }
  const attributes: Attributes = { 'http.response.status_code': 200 };
  addUsage(attributes, ctx);
  return attributes;
}

export function requestAttributes(ctx: RequestContext): Attributes {
  const attributes: Attributes = { 'http.response.status_code': ctx.status };
  const operation = OPERATIONS[ctx.endpoint];
  if (operation !== undefined) attributes['gen_ai.operation.name'] = operation;
  if (ctx.model !== '') attributes['gen_ai.request.model'] = ctx.model;
  const deployment = ctx.deployment;
  if (deployment !== null) {
    attributes['gen_ai.provider.name'] = PROVIDER_NAMES[deployment.provider] ?? deployment.provider;
    attributes['gen_ai.response.model'] = responseModel(ctx) ?? deployment.upstreamModel;
    attributes['stellwerk.deployment'] = deployment.name;
    attributes['stellwerk.attempt'] = ctx.attempts;
  }
  addRequestParameters(attributes, ctx.body);
  addUsage(attributes, ctx);
  const finishReasons = finishReasonsOf(ctx);
  if (finishReasons.length > 0) attributes['gen_ai.response.finish_reasons'] = finishReasons;
  if (ctx.error !== null) attributes['error.type'] = ctx.error.code;
  const identity = ctx.identity;
  if (identity.kind === 'key') {
    attributes['stellwerk.key_id'] = identity.key.id;
    if (identity.key.team_id !== null) attributes['stellwerk.team_id'] = identity.key.team_id;
  }
  const pii = ctx.pii;
  if (pii !== null) {
    const types = Object.keys(pii.counts);
    if (types.length > 0) attributes['stellwerk.pii.types'] = types;
  }
  const figures = settleAccounting(ctx);
  if (figures !== null) {
    attributes['stellwerk.cost_usd'] = figures.costUsd;
    if (figures.energyWh !== null) attributes['stellwerk.energy_wh'] = figures.energyWh;
    if (figures.co2eG !== null) attributes['stellwerk.co2e_g'] = figures.co2eG;
  }
  return attributes;
}

function addUsage(attributes: Attributes, ctx: RequestContext): void {
  const usage = ctx.usage;
  if (usage === null) return;
  if (typeof usage.prompt_tokens === 'number') attributes['gen_ai.usage.input_tokens'] = usage.prompt_tokens;
  if (typeof usage.completion_tokens === 'number') attributes['gen_ai.usage.output_tokens'] = usage.completion_tokens;
}

/** The sampling parameters the client asked for (numbers only). */
function addRequestParameters(attributes: Attributes, body: unknown): void {
  if (body === null || typeof body !== 'object') return;
  const request = body as { max_tokens?: unknown; max_completion_tokens?: unknown; temperature?: unknown };
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
  if (typeof request.temperature === 'number') attributes['gen_ai.request.temperature'] = request.temperature;
}

/** The model the upstream named in a whole answer; streams leave it to the deployment's model id. */
function responseModel(ctx: RequestContext): string | null {
  const result = ctx.result;
  if (result === null || result.kind !== 'json') return null;
  const model = (result.parsed.value as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? model : null;
}

/** Finish reasons of a whole answer's choices (a stream's are not kept on the request). */
function finishReasonsOf(ctx: RequestContext): string[] {
  const result = ctx.result;
  if (result === null || result.kind !== 'json') return [];
  const choices = (result.parsed.value as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return [];
  const reasons: string[] = [];
  for (const choice of choices as { finish_reason?: unknown }[]) {
    if (typeof choice?.finish_reason === 'string') reasons.push(choice.finish_reason);
  }
  return reasons;
}

interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

/** Each deployment's upstream host, found once in its config (`base_url` or `endpoint`). */
const servers = new WeakMap<Deployment, ServerAddress | null>();

function serverOf(ctx: RequestContext, deployment: Deployment): ServerAddress | null {
  let server = servers.get(deployment);
  if (server !== undefined) return server;
  server = null;
  const model = ctx.runtime.config.models.find((item) => item.name === deployment.alias);
  model?.deployments.forEach((config, index) => {
    if (deploymentName(model.name, index, config) !== deployment.name) return;
    const fields = config as { base_url?: unknown; endpoint?: unknown };
    const url = typeof fields.base_url === 'string' ? fields.base_url : typeof fields.endpoint === 'string' ? fields.endpoint : null;
    if (url === null) return;
    try {
      const parsed = new URL(url);
      const port = parsed.port !== '' ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
      server = { address: parsed.hostname, port };
    } catch {
      // Config validation accepted it; a URL that does not parse here just names no server.
    }
  });
  servers.set(deployment, server);
  return server;
}
