import type { ChatRequest, CompletionsRequest, EmbeddingsRequest, Usage } from '../../core/types.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../../providers/types.js';
import type { Deployment } from '../../routing/deployment.js';
import { GatewayError } from '../../core/errors.js';
import type { RequestContext, UpstreamResult } from '../../server/request-context.js';
import { optionalBoolean, requireEmbeddingInput, requireMessages, requireModel, requireObject, requirePrompt, wantsStreamUsage } from './validate.js';

/**
 * One kind of model call of OpenAI's API: how its body is checked, whether an adapter offers
 * it, and how the adapter is asked. The stages that route and answer are the same for all.
 */
export interface Operation {
  readonly name: 'chat' | 'completions' | 'embeddings';
  /** Checks the parsed body and notes model and streaming on the context. */
  parse(ctx: RequestContext): void;
  /** Whether the adapter can answer this request (streamed or not, as the context says). */
  supportedBy(adapter: ProviderAdapter, ctx: RequestContext): boolean;
  call(adapter: ProviderAdapter, ctx: RequestContext, call: UpstreamCall): Promise<UpstreamResult>;
  /** Checks the request against what the chosen deployment can honour, before it is sent. */
  fitTo?(deployment: Deployment, ctx: RequestContext): void;
}

function parseStreaming(ctx: RequestContext, check: (body: Record<string, unknown>) => void): void {
  const body = requireObject(ctx.body);
  ctx.model = requireModel(body);
  check(body);
  ctx.stream = optionalBoolean(body, 'stream');
  ctx.clientWantsUsage = ctx.stream && wantsStreamUsage(body);
}

// `call` hands on the adapter's promise with one `then` rather than an async function's two steps.
function streamResult(events: EventStream<unknown>): UpstreamResult {
  return { kind: 'stream', events };
}

function jsonResult(parsed: Parsed<unknown>): UpstreamResult {
  return { kind: 'json', parsed };
}

export const chatOperation: Operation = {
  name: 'chat',
  parse: (ctx) => parseStreaming(ctx, requireMessages),
  supportedBy: () => true,
  fitTo: fitChatFields,
  call(adapter, ctx, call) {
    const request = ctx.body as ChatRequest;
    return ctx.stream ? adapter.chatStream(request, call).then(streamResult) : adapter.chat(request, call).then(jsonResult);
  },
};

export const completionsOperation: Operation = {
  name: 'completions',
  parse: (ctx) => parseStreaming(ctx, requirePrompt),
  supportedBy: (adapter, ctx) => (ctx.stream ? adapter.completionsStream !== undefined : adapter.completions !== undefined),
  call(adapter, ctx, call) {
    const request = ctx.body as CompletionsRequest;
    return ctx.stream ? adapter.completionsStream!(request, call).then(streamResult) : adapter.completions!(request, call).then(jsonResult);
  },
};

export const embeddingsOperation: Operation = {
  name: 'embeddings',
  parse(ctx) {
    const body = requireObject(ctx.body);
    ctx.model = requireModel(body);
    requireEmbeddingInput(body);
  },
  supportedBy: (adapter) => adapter.embeddings !== undefined,
  call(adapter, ctx, call) {
    return adapter.embeddings!(ctx.body as EmbeddingsRequest, call).then(jsonResult);
  },
};

/**
 * A field the deployment's provider cannot honour is refused with 400 naming it, never silently
 * dropped; a field it ignores (no effect there) is named in `x-stellwerk-ignored-params`.
 */
function fitChatFields(deployment: Deployment, ctx: RequestContext): void {
  const body = ctx.body as Record<string, unknown>;
  for (const field of deployment.rejectedChatFields) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new GatewayError('invalid_request', {
        message: `"${field}" is not supported by the deployment "${deployment.name}" (provider ${deployment.provider}).`,
        param: field,
      });
    }
  }
  let ignored: string | null = null;
  // A retry may land on another deployment: the header speaks of the one that answers.
  ctx.headers.delete('x-stellwerk-ignored-params');
  for (const field of deployment.ignoredChatFields) {
    if (body[field] !== undefined && body[field] !== null) ignored = ignored === null ? field : `${ignored},${field}`;
  }
  if (ignored !== null) ctx.headers.set('x-stellwerk-ignored-params', ignored);
}

/** The usage an OpenAI-shaped answer or chunk reports, if any. */
export function usageOf(value: unknown): Usage | null {
  if (value === null || typeof value !== 'object') return null;
  const usage = (value as { usage?: unknown }).usage;
  return usage !== null && typeof usage === 'object' ? (usage as Usage) : null;
}
