import type { GatewayError } from '../../core/errors.js';
import type { ErrorType } from '../../providers/anthropic/wire.js';

/**
 * Anthropic's error type for an HTTP status. The gateway keeps its own statuses (an upstream it
 * cannot use is 502, no usable deployment 503, a timeout 504) and only names them the way
 * Anthropic's clients know: 503 is `overloaded_error` (Anthropic's own 529 means the same: try
 * again later) and 504 is `timeout_error`; the SDKs pick their error class by status, so both stay
 * retryable server errors there.
 */
export function anthropicErrorType(status: number): ErrorType | 'timeout_error' {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Anthropic's error shape: `{"type": "error", "error": {"type", "message"}}`. */
export function anthropicErrorBody(error: GatewayError): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } });
}
