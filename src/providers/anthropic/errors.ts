import { GatewayError } from '../../core/errors.js';
import { scrub } from '../http/upstream-errors.js';

/**
 * Anthropic's error body is `{"type": "error", "error": {"type", "message"}, "request_id"}`.
 * Error *responses* are mapped by the shared `upstreamStatusError`, which reads that shape (the
 * inner `error` object's message and type) — 4xx keep status, message and type, 429 keeps
 * retry-after, 401/403 and 5xx (529 "overloaded" included) become 502. errors.test.ts checks it.
 *
 * What is Anthropic's own is the `error` event inside a stream that already answered 200: it
 * has no status, only the error type, which says what kind of failure it was.
 */

/** The status Anthropic documents for each error type. */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

/** An `error` stream event → the GatewayError it stands for. */
export function streamErrorEvent(data: unknown, secrets: readonly string[]): GatewayError {
  const detail = (data as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  const type = typeof detail?.type === 'string' ? detail.type : 'api_error';
  const message = typeof detail?.message === 'string' && detail.message.length > 0 ? scrub(detail.message, secrets).slice(0, 2_000) : null;
  const status = STATUS_OF_TYPE[type] ?? 500;
  if (status === 401 || status === 403) {
    return new GatewayError('upstream_error', {
      message: `The upstream refused the deployment's credentials (${type}); check the deployment's key.`,
      upstreamCode: type,
    });
  }
  if (status >= 400 && status < 500) {
    return new GatewayError('upstream_client_error', {
      status,
      type,
      message: message ?? `The upstream rejected the request (${type}).`,
      upstreamCode: type,
    });
  }
  return new GatewayError('upstream_error', {
    message: `The upstream failed in the middle of its answer (${type})${message === null ? '.' : `: ${message}`}`,
    upstreamCode: type,
  });
}
