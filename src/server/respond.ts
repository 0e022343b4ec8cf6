import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../core/errors.js';
import type { RequestContext } from './request-context.js';

/** Sends a whole JSON answer (the body is already serialised). */
export function sendJson(ctx: RequestContext, status: number, body: string, headers?: Record<string, string>): void {
  ctx.status = status;
  const res = ctx.res;
  const answer = ctx.headers;
  if (headers !== undefined) for (const name in headers) answer.set(name, headers[name]!);
  answer.set('content-type', 'application/json');
  answer.set('content-length', String(Buffer.byteLength(body)));
  answer.writeHead(res, status);
  res.end(body);
}

/** Sends an error in the shape `format` gives, unless the answer has already begun or nobody listens. */
export function sendErrorWith(ctx: RequestContext, format: (error: GatewayError) => string): void {
  const error = ctx.error;
  if (error === null) return;
  if (error.code === 'client_closed_request') {
    ctx.status = 499;
    return;
  }
  const res: ServerResponse = ctx.res;
  if (res.headersSent || res.destroyed) return;
  if (error.code === 'request_too_large') ctx.headers.set('connection', 'close');
  sendJson(ctx, error.status, format(error), error.headers);
}
