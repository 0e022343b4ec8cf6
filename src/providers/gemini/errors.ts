import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import { scrub } from '../http/upstream-errors.js';

/**
 * Google's error body (Gemini API and Vertex AI alike):
 * `{"error": {"code": 429, "message": "…", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "…RetryInfo", "retryDelay": "7s"}]}}`
 * → a GatewayError, following the gateway's rules: a 4xx keeps its status and message (Google's
 * status name becomes the error code), a 429 keeps its back-off hint, the deployment's credentials
 * failing is a 502 (also when Google says so with a 400, as it does for a bad API key), a 5xx is a 502.
 */

interface GoogleError {
  message: string | null;
  status: string | null;
  details: Record<string, unknown>[];
}

/** Google API keys, in case an upstream message repeats one that is not the configured key. */
const GOOGLE_KEY = /AIza[0-9A-Za-z_-]{20,}/g;

/** ErrorInfo reasons that mean the deployment's key, not the request, is wrong. */
const CREDENTIAL_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED', 'API_KEY_SERVICE_BLOCKED', 'ACCESS_TOKEN_EXPIRED', 'ACCESS_TOKEN_TYPE_UNSUPPORTED']);

const MAX_MESSAGE = 2_000;

export function googleStatusError(status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError {
  const body = parseGoogleError(text);
  const message = body.message === null ? null : scrubGoogle(body.message, secrets).slice(0, MAX_MESSAGE);
  const named = body.status === null ? '' : `, ${body.status}`;
  if (status === 401 || status === 403 || body.status === 'UNAUTHENTICATED' || hasCredentialReason(body)) {
    return new GatewayError('upstream_error', {
      message: `The upstream refused the deployment's credentials (HTTP ${status}${named}); check the deployment's key or service account and its permissions.`,
      upstreamStatus: status,
    });
  }
  if (status >= 400 && status < 500) {
    return new GatewayError('upstream_client_error', {
      status,
      message: message ?? `The upstream rejected the request (HTTP ${status}${named}).`,
      type: status === 429 ? 'rate_limit_error' : 'invalid_request_error',
      upstreamCode: message !== null && TOO_LONG.test(message) ? 'context_length_exceeded' : body.status,
      headers: retryHeaders(headers, body),
      upstreamStatus: status,
    });
  }
  return new GatewayError('upstream_error', {
    message: message === null ? `The upstream failed (HTTP ${status}${named}).` : `The upstream failed (HTTP ${status}${named}): ${message}`,
    headers: retryHeaders(headers, body),
    upstreamStatus: status,
  });
}

/** Google's words for a prompt longer than the context window; OpenAI clients know this as context_length_exceeded. */
const TOO_LONG = /input token count .*exceeds the maximum number of tokens/i;

export function scrubGoogle(text: string, secrets: readonly string[]): string {
  return scrub(text, secrets).replace(GOOGLE_KEY, '[redacted]');
}

function parseGoogleError(text: string): GoogleError {
  const empty: GoogleError = { message: null, status: null, details: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return { ...empty, message: trimmed.length > 0 ? trimmed : null };
  }
  // Some Google endpoints wrap the error in a one-element array.
  if (Array.isArray(parsed)) parsed = parsed[0];
  const inner = isObject(parsed) ? parsed.error : undefined;
  if (!isObject(inner)) return typeof inner === 'string' ? { ...empty, message: inner } : empty;
  return {
    message: typeof inner.message === 'string' && inner.message.length > 0 ? inner.message : null,
    status: typeof inner.status === 'string' && inner.status.length > 0 ? inner.status : null,
    details: Array.isArray(inner.details) ? inner.details.filter(isObject) : [],
  };
}

function hasCredentialReason(body: GoogleError): boolean {
  return body.details.some((detail) => typeof detail.reason === 'string' && CREDENTIAL_REASONS.has(detail.reason));
}

/** The back-off hint: Google's retry-after header if sent, else its RetryInfo delay in whole seconds. */
function retryHeaders(headers: IncomingHttpHeaders, body: GoogleError): Record<string, string> | undefined {
  const header = headers['retry-after'];
  if (typeof header === 'string' && header.length > 0) return { 'retry-after': header };
  for (const detail of body.details) {
    if (typeof detail['@type'] !== 'string' || !detail['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const seconds = durationSeconds(detail.retryDelay);
    if (seconds !== null) return { 'retry-after': String(Math.ceil(seconds)) };
  }
  return undefined;
}

/** A protobuf Duration in JSON ("7s", "0.5s") or as {seconds, nanos}. */
function durationSeconds(value: unknown): number | null {
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return match === null ? null : Number(match[1]);
  }
  if (isObject(value)) {
    const seconds = Number(value.seconds ?? 0) + Number(value.nanos ?? 0) / 1e9;
    return Number.isFinite(seconds) ? seconds : null;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
