import { ANTHROPIC_VERSION } from './wire.js';

/** Below the configured base URL. */
export const MESSAGES_PATH = '/v1/messages';

export interface AnthropicAuth {
  readonly apiKey: string;
  readonly betas: readonly string[];
}

/**
 * The headers of every call: the key as `x-api-key` (Anthropic's documented header; the API also
 * takes `Authorization: Bearer`, which recent SDKs send), the API version the translation is
 * written for, and the deployment's beta features. Auth lives here and nowhere else.
 */
export function anthropicHeaders(auth: AnthropicAuth): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
    'x-api-key': auth.apiKey,
  };
  if (auth.betas.length > 0) headers['anthropic-beta'] = auth.betas.join(',');
  return headers;
}
