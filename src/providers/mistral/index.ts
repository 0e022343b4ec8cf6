import type { ProviderModule } from '../types.js';
import { MistralAdapter } from './adapter.js';
import { mistralApiKey } from './api.js';
import { mistralDeploymentSchema } from './config.js';
import { MISTRAL_CHAT_FIELDS } from './fields.js';

/** Mistral's API (La Plateforme): chat completions and embeddings. */
export const mistralProvider = {
  name: 'mistral',
  deploymentSchema: mistralDeploymentSchema,
  chatFields: MISTRAL_CHAT_FIELDS,
  unusableReason: (config) => (mistralApiKey(config) === '' ? 'no API key: set api_key or MISTRAL_API_KEY' : null),
  upstreamModel: (config) => config.model,
  create: (config, context) =>
    new MistralAdapter({
      baseUrl: config.base_url,
      model: config.model,
      apiKey: mistralApiKey(config),
      safePrompt: config.safe_prompt,
      headers: config.headers ?? {},
      connections: config.max_connections,
      timeouts: context.timeouts,
    }),
} satisfies ProviderModule<typeof mistralDeploymentSchema>;
