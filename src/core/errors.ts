/**
 * Every error Stellwerk answers with is declared here, once: its stable code, the HTTP status,
 * the OpenAI error `type`, the log level and a default message. docs/errors.md lists the same
 * table and a test keeps the two in agreement.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ErrorSpec {
  readonly status: number;
  /** The `error.type` field of OpenAI's error shape. */
  readonly type: string;
  readonly level: LogLevel;
  readonly message: string;
}

export const ERROR_CODES = {
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The request body is not valid JSON.',
  },
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The request is invalid.',
  },
  invalid_api_key: {
    status: 401,
    type: 'authentication_error',
    level: 'info',
    message: 'Missing or invalid API key. Send it as "Authorization: Bearer <key>" or "x-api-key".',
  },
  key_expired: {
    status: 401,
    type: 'authentication_error',
    level: 'info',
    message: 'The API key has expired.',
  },
  key_blocked: {
    status: 403,
    type: 'permission_error',
    level: 'info',
    message: 'The API key is blocked.',
  },
  model_not_allowed: {
    status: 403,
    type: 'permission_error',
    level: 'info',
    message: 'The API key may not use this model.',
  },
  forbidden: {
    status: 403,
    type: 'permission_error',
    level: 'info',
    message: 'The API key may not do this.',
  },
  csrf_failed: {
    status: 403,
    type: 'permission_error',
    level: 'info',
    message: 'A change made with the dashboard session cookie needs the header x-csrf-token of that session.',
  },
  not_found: {
    status: 404,
    type: 'invalid_request_error',
    level: 'info',
    message: 'No such object.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The model does not exist.',
  },
  route_not_found: {
    status: 404,
    type: 'invalid_request_error',
    level: 'info',
    message: 'No such endpoint.',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    level: 'info',
    message: 'This method is not allowed on this endpoint.',
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The request body is larger than the configured limit.',
  },
  unsupported_endpoint: {
    status: 400,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The model is not served for this endpoint by its deployments.',
  },
  pii_detected: {
    status: 400,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The request contains personal data that the privacy policy blocks.',
  },
  residency_unavailable: {
    status: 403,
    type: 'permission_error',
    level: 'warn',
    message: 'No deployment in a region the data policy allows is available; the request was sent nowhere.',
  },
  upstream_client_error: {
    status: 400,
    type: 'invalid_request_error',
    level: 'info',
    message: 'The upstream rejected the request.',
  },
  client_closed_request: {
    status: 499,
    type: 'client_closed_request',
    level: 'info',
    message: 'The client closed the connection before the answer was complete; nothing is sent.',
  },
  rate_limit_exceeded: {
    status: 429,
    type: 'rate_limit_error',
    level: 'info',
    message: 'Rate limit reached for this key or team.',
  },
  budget_exceeded: {
    status: 429,
    type: 'insufficient_quota',
    level: 'info',
    message: 'The budget of this key or team is used up for the current period.',
  },
  upstream_rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    level: 'info',
    message: 'Every deployment of this model is rate-limited by its upstream right now.',
  },
  internal_error: {
    status: 500,
    type: 'server_error',
    level: 'error',
    message: 'Internal error in the gateway.',
  },
  upstream_unreachable: {
    status: 502,
    type: 'server_error',
    level: 'warn',
    message: 'The upstream could not be reached.',
  },
  upstream_error: {
    status: 502,
    type: 'server_error',
    level: 'warn',
    message: 'The upstream failed to answer the request.',
  },
  upstream_bad_response: {
    status: 502,
    type: 'server_error',
    level: 'warn',
    message: 'The upstream sent a response that could not be understood.',
  },
  shutting_down: {
    status: 503,
    type: 'server_error',
    level: 'info',
    message: 'The gateway is shutting down.',
  },
  limits_unavailable: {
    status: 503,
    type: 'server_error',
    level: 'error',
    message: 'The shared rate-limit store cannot be reached; requests are refused rather than let through unlimited.',
  },
  no_healthy_deployment: {
    status: 503,
    type: 'server_error',
    level: 'warn',
    message: 'No deployment of this model is available.',
  },
  upstream_timeout: {
    status: 504,
    type: 'timeout_error',
    level: 'warn',
    message: 'The upstream did not answer in time.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface GatewayErrorOptions {
  message?: string;
  /** The request field the error is about (OpenAI's `error.param`). */
  param?: string | null;
  /** Overrides the table's status; only for errors relayed from an upstream (their own 4xx). */
  status?: number;
  /** Overrides the table's type; only for errors relayed from an upstream. */
  type?: string;
  /** Relayed upstream error code, if the upstream gave one. */
  upstreamCode?: string | null;
  /** Headers to send with the error (e.g. retry-after from an upstream 429). */
  headers?: Record<string, string>;
  /** The HTTP status the upstream answered with, when it answered. */
  upstreamStatus?: number;
  /** How the transport to the upstream failed, when it did (for retry decisions). */
  transport?: TransportFailure;
  cause?: unknown;
}

export type TransportFailure = 'connect' | 'reset' | 'timeout';

/** An error with a stable code from the table; becomes a response in the client's protocol. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly upstreamCode: string | null;
  readonly headers: Record<string, string> | undefined;
  readonly upstreamStatus: number | null;
  readonly transport: TransportFailure | null;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(options.message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.type = options.type ?? spec.type;
    this.param = options.param ?? null;
    this.upstreamCode = options.upstreamCode ?? null;
    this.headers = options.headers;
    this.upstreamStatus = options.upstreamStatus ?? null;
    this.transport = options.transport ?? null;
  }

  get level(): LogLevel {
    return ERROR_CODES[this.code].level;
  }
}

/** Anything thrown that is not a GatewayError is an internal error: its message is not shown. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal_error', { cause: error });
}
