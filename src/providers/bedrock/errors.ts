import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import { scrub, upstreamStatusError } from '../http/upstream-errors.js';

/**
 * Bedrock's errors (AWS restJson1): the status, the error's name in the `x-amzn-errortype` header
 * (`ValidationException:http://internal.amazon.com/coral/…`) and `{"message": …}` as the body.
 * The name becomes the error's `code`, so clients see `ValidationException`, `ThrottlingException`.
 */

const MAX_MESSAGE = 2_000;

/** The error's short name from the header or the body's `__type` (`com.amazon…#ThrottlingException`). */
export function errorTypeName(headers: IncomingHttpHeaders, body: Record<string, unknown> | null): string | null {
  const header = headers['x-amzn-errortype'];
  const raw = typeof header === 'string' ? header : typeof body?.__type === 'string' ? body.__type : null;
  if (raw === null) return null;
  const name = raw.split(':')[0]!.split('#').pop()!.trim();
  return name.length > 0 ? name : null;
}

/**
 * An error status from Bedrock as a GatewayError. 401/403 mean the deployment's credentials (or
 * its signature) are wrong: a 502 naming only the AWS error type, since AWS's signature messages
 * quote the canonical request, session token header included. 408 (the model took too long) is a
 * timeout; 424 (the model itself failed) and 5xx are the upstream's failure; other 4xx are the
 * client's, with Bedrock's message and status.
 */
export function bedrockStatusError(status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError {
  const body = parseBody(text);
  const type = errorTypeName(headers, body);
  const rawMessage = typeof body?.message === 'string' ? body.message : typeof body?.Message === 'string' ? body.Message : null;
  const message = rawMessage === null ? null : scrub(rawMessage, secrets).slice(0, MAX_MESSAGE);
  const named = type === null ? `HTTP ${status}` : `HTTP ${status} ${type}`;
  if (status === 401 || status === 403) {
    return new GatewayError('upstream_error', {
      message: `The upstream refused the deployment's credentials (${named}); check its AWS keys, region and IAM permissions.`,
      upstreamCode: type,
      upstreamStatus: status,
    });
  }
  if (status === 408) {
    return new GatewayError('upstream_timeout', { message: withDetail(`The model did not answer in time (${named})`, message), upstreamCode: type, upstreamStatus: status });
  }
  if (status === 424 || status >= 500) {
    return new GatewayError('upstream_error', { message: withDetail(`The upstream failed (${named})`, message), upstreamCode: type, upstreamStatus: status });
  }
  // The generic mapping keeps the status, relays retry-after and names a default type.
  const generic = upstreamStatusError(status, headers, message === null ? '' : JSON.stringify({ message }), secrets);
  return new GatewayError(generic.code, {
    status: generic.status,
    message: generic.message,
    type: generic.type,
    upstreamCode: type,
    ...(generic.headers === undefined ? {} : { headers: generic.headers }),
    upstreamStatus: status,
  });
}

/**
 * An exception frame inside a stream. Throttling and validation keep their client statuses (so a
 * stream refused at its first frame answers 429 or 400 like a refused request); the model's and
 * the service's failures are the upstream's (502).
 */
export function streamExceptionError(type: string, rawMessage: string | null, secrets: readonly string[]): GatewayError {
  const message = rawMessage === null ? null : scrub(rawMessage, secrets).slice(0, MAX_MESSAGE);
  const name = type.charAt(0).toUpperCase() + type.slice(1);
  switch (type) {
    case 'throttlingException':
      return new GatewayError('upstream_client_error', {
        status: 429,
        type: 'rate_limit_error',
        message: message ?? 'The upstream is throttling requests.',
        upstreamCode: name,
        upstreamStatus: 429,
      });
    case 'validationException':
      return new GatewayError('upstream_client_error', {
        status: 400,
        message: message ?? 'The upstream rejected the request.',
        upstreamCode: name,
        upstreamStatus: 400,
      });
    default:
      return new GatewayError('upstream_error', {
        message: withDetail(`The upstream failed in the middle of its answer (${name})`, message),
        upstreamCode: name,
        upstreamStatus: EXCEPTION_STATUS[type] ?? 500,
      });
  }
}

/** The HTTP status Bedrock gives each exception when it is not inside a stream (for retry decisions). */
const EXCEPTION_STATUS: Record<string, number> = {
  modelStreamErrorException: 424,
  internalServerException: 500,
  serviceUnavailableException: 503,
  modelTimeoutException: 408,
};

function withDetail(summary: string, message: string | null): string {
  return message === null ? `${summary}.` : `${summary}: ${message}`;
}

function parseBody(text: string): Record<string, unknown> | null {
  if (text.length === 0) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return { message: text.trim() };
  }
}
