import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';

/** Headers of an upstream error that the client needs to act on it (back-off hints). */
const RELAYED_HEADERS = [
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
] as const;

const MAX_MESSAGE = 2_000;

interface UpstreamErrorBody {
  message: string | null;
  type: string | null;
  param: string | null;
  code: string | null;
}

/**
 * An upstream answered with an error status. Its 4xx reach the client with the same status and
 * message (the client sent something the model refused); its 5xx become 502. A 401/403 means the
 * *deployment's* credentials are wrong, not the client's: passing it on would make SDKs report a
 * bad client key, so it becomes a 502 that says so.
 */
export function upstreamStatusError(
  status: number,
  headers: IncomingHttpHeaders,
  text: string,
  secrets: readonly string[],
): GatewayError {
  const body = parseErrorBody(text);
  const message = body.message === null ? null : scrub(body.message, secrets).slice(0, MAX_MESSAGE);
  if (status === 401 || status === 403) {
    return new GatewayError('upstream_error', {
      message: `The upstream refused the deployment's credentials (HTTP ${status}); check the deployment's key.`,
      upstreamStatus: status,
    });
  }
  if (status >= 400 && status < 500) {
    return new GatewayError('upstream_client_error', {
      status,
      message: message ?? `The upstream rejected the request (HTTP ${status}).`,
      type: body.type ?? (status === 429 ? 'rate_limit_error' : 'invalid_request_error'),
      param: body.param,
      upstreamCode: body.code,
      headers: relayedHeaders(headers),
      upstreamStatus: status,
    });
  }
  return new GatewayError('upstream_error', {
    message: message === null ? `The upstream failed (HTTP ${status}).` : `The upstream failed (HTTP ${status}): ${message}`,
    upstreamStatus: status,
    headers: relayedHeaders(headers),
  });
}

function parseErrorBody(text: string): UpstreamErrorBody {
  const empty: UpstreamErrorBody = { message: null, type: null, param: null, code: null };
  if (text.length === 0) return empty;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ...empty, message: text.trim() || null };
  }
  if (parsed === null || typeof parsed !== 'object') return empty;
  // OpenAI and most compatible servers: {"error": {...}}; some (e.g. TGI, older vLLM): {"message": ...} or {"error": "..."}.
  const record = parsed as Record<string, unknown>;
  const inner = record.error;
  if (typeof inner === 'string') return { ...empty, message: inner };
  const source = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : record;
  return {
    message: stringOrNull(source.message) ?? stringOrNull(source.detail),
    type: stringOrNull(source.type),
    param: stringOrNull(source.param),
    code: source.code === undefined || source.code === null ? null : String(source.code),
  };
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function relayedHeaders(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of RELAYED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') (out ??= {})[name] = value;
  }
  return out;
}

/** Removes configured secrets, and anything shaped like an API key, from text bound for a client. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(/\b(sk|pk|rk)-[A-Za-z0-9_*-]{8,}/g, '[redacted]');
}
