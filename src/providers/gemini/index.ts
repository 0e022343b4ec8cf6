import { UpstreamClient } from '../http/upstream-client.js';
import type { ProviderModule } from '../types.js';
import { GeminiAdapter } from './adapter.js';
import { GeminiApi, geminiApiKey } from './api.js';
import { geminiDeploymentSchema } from './config.js';
import { googleStatusError } from './errors.js';
import { GOOGLE_CHAT_FIELDS } from './fields.js';

/** Google's Gemini API (AI Studio keys): chat and embeddings. */
export const geminiProvider = {
  name: 'gemini',
  deploymentSchema: geminiDeploymentSchema,
  chatFields: GOOGLE_CHAT_FIELDS,
  unusableReason: (config) => (geminiApiKey(config) === '' ? 'no API key: set api_key, GEMINI_API_KEY or GOOGLE_API_KEY' : null),
  upstreamModel: (config) => config.model,
  create: (config, context) => {
    const apiKey = geminiApiKey(config);
    const client = new UpstreamClient({
      baseUrl: config.base_url,
      timeouts: context.timeouts,
      connections: config.max_connections,
      secrets: [apiKey],
      statusError: googleStatusError,
    });
    return new GeminiAdapter(new GeminiApi(config.model, apiKey, config.headers ?? {}), client);
  },
} satisfies ProviderModule<typeof geminiDeploymentSchema>;
