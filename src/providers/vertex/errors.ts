import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayError } from '../../core/errors.js';
import { googleStatusError } from '../gemini/errors.js';
import type { StatusErrorMapper } from '../http/upstream-client.js';
import { upstreamStatusError } from '../http/upstream-errors.js';

/** What the error mapper needs of the token source. */
export interface TokenState {
  /** The token in use, scrubbed from error messages like a key. */
  current(): readonly string[];
  /** Called on a 401: the token is not accepted any more, so the next request fetches a new one. */
  invalidate(): void;
}

/**
 * Vertex AI answers errors in Google's shape — except that Claude's own refusals on
 * `:rawPredict` come in Anthropic's (`{"type": "error", "error": {"type", "message"}}`), which the
 * shared mapper reads. The current access token is scrubbed along with the configured secrets.
 */
export function vertexStatusError(tokens: TokenState): StatusErrorMapper {
  return (status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError => {
    const all = [...secrets, ...tokens.current()];
    if (status === 401) tokens.invalidate();
    return isAnthropicError(text) ? upstreamStatusError(status, headers, text, all) : googleStatusError(status, headers, text, all);
  };
}

function isAnthropicError(text: string): boolean {
  try {
    const body = JSON.parse(text) as { type?: unknown };
    return body !== null && typeof body === 'object' && body.type === 'error';
  } catch {
    return false;
  }
}
