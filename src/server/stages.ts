import { GatewayError } from '../core/errors.js';
import type { Operation } from '../protocols/openai/operations.js';
import { usageOf } from '../protocols/openai/operations.js';
import { relayOpenAiStream } from '../protocols/openai/stream-relay.js';
import { readJsonInto } from './body.js';
import type { Stage } from './lifecycle.js';
import type { RequestContext } from './request-context.js';
import { sendJson } from './respond.js';
import { accountingHeaders, completeUsage } from '../accounting/request.js';

/**
 * The stages of a model call, in the order docs/lifecycle.md draws them. Each does one thing
 * and leaves what it learned on the context.
 */

export const readJsonBody: Stage = (ctx) => readJsonInto(ctx.req, ctx.runtime.config.server.max_body_bytes, ctx);

export function parseBody(operation: Operation): Stage {
  return function parseBody(ctx) {
    operation.parse(ctx);
  };
}

export const resolveAlias: Stage = (ctx) => {
  const alias = ctx.runtime.routes.get(ctx.model);
  if (alias === undefined) {
    throw new GatewayError('model_not_found', {
      message: `The model "${ctx.model}" does not exist. GET /v1/models lists the models served here.`,
      param: 'model',
    });
  }
  ctx.alias = alias;
};

/** Sends the upstream's answer: a whole JSON body as it came, or the stream event by event. */
export const respond: Stage = (ctx) => {
  const result = ctx.result!;
  if (result.kind === 'stream') return relayOpenAiStream(ctx, result.events).then(() => finishAttempt(ctx));
  ctx.usage = usageOf(result.parsed.value);
  // Only an answer without usage needs counting (asynchronously); the common one is sent at once.
  if (ctx.usage === null) return completeUsage(ctx, answerText(result.parsed.value)).then(() => sendWhole(ctx, result.parsed));
  sendWhole(ctx, result.parsed);
};

function sendWhole(ctx: RequestContext, parsed: { value: unknown; raw: string | null }): void {
  sendJson(ctx, 200, parsed.raw ?? JSON.stringify(parsed.value), accountingHeaders(ctx));
  finishAttempt(ctx);
}

function finishAttempt(ctx: RequestContext): void {
  ctx.attempt?.finish(ctx.error, Date.now());
}

export const listModels: Stage = (ctx) => {
  sendJson(ctx, 200, ctx.runtime.modelsBody);
};

export const retrieveModel: Stage = (ctx) => {
  const encoded = new URL(ctx.req.url ?? '/', 'http://x').pathname.slice('/v1/models/'.length);
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    id = encoded;
  }
  if (ctx.runtime.routes.get(id) === undefined) {
    throw new GatewayError('model_not_found', { message: `The model "${id}" does not exist.`, param: 'model' });
  }
  sendJson(ctx, 200, JSON.stringify({ id, object: 'model', created: 0, owned_by: 'stellwerk' }));
};

/** The generated text of a whole chat or completions answer, to count when it reports no usage. */
function answerText(value: unknown): string {
  const choices = (value as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return '';
  let text = '';
  for (const choice of choices as { message?: { content?: unknown }; text?: unknown }[]) {
    if (typeof choice?.message?.content === 'string') text += choice.message.content;
    else if (typeof choice?.text === 'string') text += choice.text;
  }
  return text;
}
