import type { GatewayError } from '../core/errors.js';
import type { RetryConfig } from '../config/schema.js';

/** Whether the retry config says this failure is worth another attempt. */
export function isRetryable(error: GatewayError, retry: RetryConfig): boolean {
  if (error.code === 'client_closed_request') return false;
  if (error.transport !== null) return retry.on.includes(error.transport);
  if (error.code === 'upstream_timeout') return retry.on.includes('timeout');
  if (error.upstreamStatus !== null) return retry.on.includes(error.upstreamStatus);
  // An answer the gateway could not read is as good as a broken connection.
  if (error.code === 'upstream_bad_response') return retry.on.includes('reset');
  return false;
}

/**
 * Exponential backoff with full jitter: a random wait between 0 and
 * min(max, initial · 2^(retry−1)), so that clients retrying together spread out.
 */
export function backoffMs(retryNumber: number, retry: RetryConfig, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.max_backoff_ms, retry.initial_backoff_ms * 2 ** Math.max(0, retryNumber - 1));
  return Math.floor(random() * ceiling);
}

const CONTEXT_WINDOW = /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|input is too long|reduce the length/i;

/** An upstream's refusal because the prompt does not fit the model's context window. */
export function isContextWindowError(error: GatewayError): boolean {
  if (error.code !== 'upstream_client_error') return false;
  if (error.upstreamCode === 'context_length_exceeded' || error.upstreamCode === 'string_above_max_length') return true;
  return (error.status === 400 || error.status === 413 || error.status === 422) && CONTEXT_WINDOW.test(error.message);
}
