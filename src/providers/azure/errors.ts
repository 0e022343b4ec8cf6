import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../core/errors.js';
import { scrub, upstreamStatusError } from '../http/upstream-errors.js';

type Json = Record<string, unknown>;

/**
 * Azure's error bodies are OpenAI-shaped (`{"error": {"code", "message", "param", "type"}}`, with
 * `code` often a status string like "429"), so the common mapping applies, with two additions:
 *
 * - a content-filter refusal (400, code `content_filter`) keeps its status, code and message, and
 *   the message names the categories that were filtered (from `innererror.content_filter_result`),
 *   since the client's error shape has no room for Azure's detail object;
 * - a missing deployment (404 `DeploymentNotFound`) is the gateway's configuration, not the
 *   client's request, so like a refused key it becomes `upstream_error` (502).
 */
export function azureStatusError(status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError {
  const error = errorObject(text);
  if (error !== null && status === 404 && error.code === 'DeploymentNotFound') {
    const message = typeof error.message === 'string' ? `: ${scrub(error.message, secrets)}` : '';
    return new GatewayError('upstream_error', {
      message: `The configured Azure deployment does not exist (HTTP 404 DeploymentNotFound)${message}`,
    });
  }
  if (error !== null && error.code === 'content_filter' && typeof error.message === 'string') {
    const categories = filteredCategories(error.innererror);
    if (categories.length > 0) {
      const enriched = { error: { ...error, message: `${error.message} (filtered: ${categories.join(', ')})` } };
      return upstreamStatusError(status, headers, JSON.stringify(enriched), secrets);
    }
  }
  return upstreamStatusError(status, headers, text, secrets);
}

function errorObject(text: string): Json | null {
  try {
    const parsed = JSON.parse(text) as unknown;
    const error = parsed !== null && typeof parsed === 'object' ? (parsed as Json).error : null;
    return error !== null && typeof error === 'object' && !Array.isArray(error) ? (error as Json) : null;
  } catch {
    return null;
  }
}

/** `{"content_filter_result": {"hate": {"filtered": true, …}, "jailbreak": {"filtered": true, "detected": true}}}` → names. */
export function filteredCategories(innererror: unknown): string[] {
  if (innererror === null || typeof innererror !== 'object') return [];
  const result = (innererror as Json).content_filter_result;
  if (result === null || typeof result !== 'object') return [];
  return Object.entries(result as Json)
    .filter(([, verdict]) => verdict !== null && typeof verdict === 'object' && (verdict as Json).filtered === true)
    .map(([category]) => category);
}
