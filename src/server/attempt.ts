import { GatewayError } from '../core/errors.js';
import { estimatePromptTokens } from '../core/request-size.js';
import type { Deployment } from '../routing/deployment.js';
import type { AttemptTicket } from '../routing/deployment-state.js';
import type { UpstreamCall } from '../providers/types.js';
import { CallSignal } from '../providers/http/abort.js';
import type { RequestContext } from './request-context.js';
import type { AttemptTrace } from '../telemetry/tracing.js';

const FORWARDED = ['traceparent', 'tracestate'] as const;
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One call to one deployment, from sending to its last byte: its own abort signal (fired by the
 * client leaving or by the deployment's total timeout), and the ticket that tells the
 * deployment's state how it went. `finish` runs exactly once, however the call ends.
 */
export class Attempt {
  readonly call: UpstreamCall;
  private readonly signal = new CallSignal();
  private readonly ticket: AttemptTicket;
  private readonly timer: NodeJS.Timeout;
  /** This attempt's span (tracing on), whose trace context travels upstream instead of the client's. */
  private readonly trace: AttemptTrace | null;

  constructor(
    private readonly ctx: RequestContext,
    readonly deployment: Deployment,
    now: number,
    tokens: number,
    timeoutMs: number,
  ) {
    this.ticket = deployment.state.begin(now, tokens, ctx.stream, estimatePromptTokens(ctx.bodyBytes));
    const signal = this.signal;
    if (ctx.clientGone) signal.abort(new GatewayError('client_closed_request'));
    else ctx.whenClientGone(() => signal.abort(new GatewayError('client_closed_request')));
    this.timer = setTimeout(() => {
      signal.abort(new GatewayError('upstream_timeout', { message: `The upstream call took longer than ${timeoutMs} ms in total.`, transport: 'timeout' }));
    }, timeoutMs);
    this.trace = ctx.trace === null ? null : ctx.trace.startAttempt(ctx, deployment, ctx.attempts);
    this.call = { signal, requestId: ctx.id, forwardHeaders: this.trace === null ? forwardHeaders(ctx) : this.trace.headers };
  }

  get finished(): boolean {
    return this.ticket.done;
  }

  /** The first byte of the answer arrived (for the latency record, and the prompt is no longer prefill outstanding). */
  markFirstByte(now: number): void {
    this.deployment.state.firstByte(this.ticket, now);
  }

  finish(error: GatewayError | null, now: number): void {
    if (this.ticket.done) return;
    clearTimeout(this.timer);
    this.ctx.whenClientGone(null);
    this.deployment.state.end(this.ticket, error, now, this.ctx.usage?.completion_tokens ?? 0);
    this.trace?.end(error, this.ctx);
    const status = error === null ? 200 : error.upstreamStatus;
    this.ctx.attemptLog.push({ deployment: this.deployment.name, outcome: error === null ? 'ok' : error.code, status, ms: now - this.ticket.startedAt });
  }
}

function forwardHeaders(ctx: RequestContext): Readonly<Record<string, string>> {
  let out: Record<string, string> | null = null;
  for (const name of FORWARDED) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') (out ??= {})[name] = value;
  }
  return out ?? NO_HEADERS;
}
