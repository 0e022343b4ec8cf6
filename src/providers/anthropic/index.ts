import type { ProviderModule } from '../types.js';
import { AnthropicAdapter } from './adapter.js';
import { anthropicApiKey, anthropicDeploymentSchema } from './config.js';
import { ANTHROPIC_CHAT_FIELDS } from './fields.js';

/** Anthropic's Messages API (Claude), translated from and to OpenAI's Chat Completions. */
export const anthropicProvider = {
  name: 'anthropic',
  deploymentSchema: anthropicDeploymentSchema,
  chatFields: ANTHROPIC_CHAT_FIELDS,
  unusableReason: (config) => (anthropicApiKey(config) === '' ? 'no API key: set api_key or ANTHROPIC_API_KEY' : null),
  upstreamModel: (config) => config.model,
  create: (config, context) =>
    new AnthropicAdapter({
      baseUrl: config.base_url,
      model: config.model,
      apiKey: anthropicApiKey(config),
      betas: config.anthropic_beta ?? [],
      maxTokens: config.max_tokens,
      connections: config.max_connections,
      timeouts: context.timeouts,
    }),
} satisfies ProviderModule<typeof anthropicDeploymentSchema>;
