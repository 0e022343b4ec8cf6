import { GatewayError, toGatewayError } from '../core/errors.js';
import type { RequestContext } from './request-context.js';

/** One step of a request's way; it may answer the request itself (then later stages do not run). */
export type Stage = (ctx: RequestContext) => void | Promise<void>;

/** A route's stages, in order, plus what always runs at the end. */
export interface Lifecycle {
  readonly stages: readonly Stage[];
  /** Answers an error in the route's protocol (OpenAI's shape for /v1). */
  readonly sendError: (ctx: RequestContext) => void;
  /** Runs after the answer, whatever happened: accounting, metrics, the log line. */
  readonly finish: (ctx: RequestContext) => void;
}

/**
 * Runs the stages one after another until one has answered (`res.headersSent` and ended) or
 * thrown; a throw becomes an error answer. Synchronous stages are not awaited, so a request
 * pays for a microtask only where a stage really waits.
 */
export async function runLifecycle(ctx: RequestContext, lifecycle: Lifecycle): Promise<void> {
  try {
    // By index: for…of over the array across an await allocates its iterator and a result object per stage.
    const stages = lifecycle.stages;
    for (let i = 0; i < stages.length; i++) {
      const pending = stages[i]!(ctx);
      if (pending !== undefined) await pending;
      if (ctx.res.writableEnded) break;
    }
  } catch (thrown) {
    ctx.error = toGatewayError(thrown);
    lifecycle.sendError(ctx);
  } finally {
    // Whatever ended the request, the upstream call it made (if any) is over now. (Usually the
    // respond stage has finished it already; an Error is built only when it has not.)
    try {
      const attempt = ctx.attempt;
      if (attempt !== null && !attempt.finished) attempt.finish(ctx.error ?? new GatewayError('client_closed_request'), Date.now());
    } finally {
      lifecycle.finish(ctx);
    }
  }
}
