import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/types.js';
import type { EventStream } from '../../providers/types.js';
import type { Deployment } from '../../routing/deployment.js';
import type { Stage } from '../../server/lifecycle.js';
import type { RequestContext } from '../../server/request-context.js';
import { sendJson } from '../../server/respond.js';
import { chatOperation, usageOf, type Operation } from '../openai/operations.js';
import { estimateInputTokens } from './count-tokens.js';
import { ANTHROPIC_NAME_OF_CANONICAL } from './fields.js';
import { AnthropicStreamWriter, writeAnthropicStream } from './stream-writer.js';
import { toCanonicalRequest } from './translate-request.js';
import { toAnthropicMessage } from './translate-response.js';
import { accountingHeaders, completeUsage } from '../../accounting/request.js';

const IGNORED_HEADER = 'x-stellwerk-ignored-params';

/**
 * `POST /v1/messages`: Anthropic's request is translated to the canonical chat request once, in
 * `parse`; from there on it is an ordinary chat call (same routing, same adapters, same checks
 * of what the deployment honours), and only the answer is turned back into Anthropic's shape by
 * the `respond` stage below.
 */
export const messagesOperation: Operation = {
  name: 'chat',
  parse(ctx) {
    const { request, notes } = toCanonicalRequest(ctx.body);
    ctx.body = request;
    ctx.model = request.model;
    ctx.stream = request.stream === true;
    ctx.anthropic = notes;
  },
  supportedBy: chatOperation.supportedBy,
  call: chatOperation.call,
  fitTo: fitMessagesTo,
};

/**
 * The chat checks of the deployment (refused fields are a 400, ignored ones named in a header),
 * reported under the names the Anthropic client sent, together with the Anthropic fields that
 * have no effect anywhere behind the canonical model.
 */
function fitMessagesTo(deployment: Deployment, ctx: RequestContext): void {
  // Runs once per deployment tried: what an earlier one ignored does not count for this one.
  ctx.headers.delete(IGNORED_HEADER);
  try {
    chatOperation.fitTo?.(deployment, ctx);
  } catch (error) {
    const field = error instanceof GatewayError && error.param !== null ? anthropicName(error.param) : undefined;
    if (field === undefined) throw error;
    throw new GatewayError('invalid_request', {
      message: `"${field}" is not supported by the deployment "${deployment.name}" (provider ${deployment.provider}).`,
      param: field,
    });
  }
  const ignored = [...(ctx.anthropic?.ignored ?? [])];
  const header = ctx.headers.get(IGNORED_HEADER);
  if (typeof header === 'string') for (const field of header.split(',')) ignored.push(anthropicName(field) ?? field);
  if (!placeTopK(deployment, ctx)) ignored.push('top_k');
  if (ignored.length > 0) ctx.headers.set(IGNORED_HEADER, ignored.join(','));
}

/**
 * vLLM, SGLang and llama.cpp take `top_k` as an extension of the OpenAI wire format; other servers
 * behind `openai-compatible` may ignore it, and no other provider reads it.
 */
const TOP_K_PROVIDERS: ReadonlySet<string> = new Set(['openai-compatible']);

/** Puts `top_k` into the canonical request for a deployment that honours it; false when it had to be left out. */
function placeTopK(deployment: Deployment, ctx: RequestContext): boolean {
  const topK = ctx.anthropic?.topK;
  const request = ctx.body as ChatRequest;
  if (topK === undefined) return true;
  if (TOP_K_PROVIDERS.has(deployment.provider)) {
    request.top_k = topK;
    return true;
  }
  delete request.top_k;
  return false;
}

function anthropicName(canonicalField: string): string | undefined {
  return Object.hasOwn(ANTHROPIC_NAME_OF_CANONICAL, canonicalField) ? ANTHROPIC_NAME_OF_CANONICAL[canonicalField] : undefined;
}

/** Sends the canonical answer in Anthropic's shape: a message, or its stream of events. */
export const respondAnthropic: Stage = async function respond(ctx) {
  const result = ctx.result!;
  const stopSequences = ctx.anthropic?.stopSequences ?? [];
  if (result.kind === 'stream') {
    const writer = new AnthropicStreamWriter({
      stopSequences,
      inputTokensEstimate: estimateInputTokens(ctx.body as ChatRequest),
      requestId: ctx.id,
      model: ctx.deployment?.upstreamModel ?? ctx.model,
    });
    await writeAnthropicStream(ctx, result.events as EventStream<ChatChunk>, writer);
    await completeUsage(ctx);
  } else {
    const response = result.parsed.value as ChatResponse;
    ctx.usage = usageOf(response);
    sendJson(ctx, 200, JSON.stringify(toAnthropicMessage(response, stopSequences)), accountingHeaders(ctx));
  }
  ctx.attempt?.finish(ctx.error, Date.now());
};
