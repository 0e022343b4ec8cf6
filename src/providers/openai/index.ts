import type { ProviderModule } from '../types.js';
import { OpenAiWireAdapter } from '../openai-compatible/adapter.js';
import { OPENAI_WIRE_CHAT_FIELDS } from '../openai-compatible/fields.js';
import { openAiDeploymentSchema, type OpenAiDeployment } from './config.js';

/** The key comes from the deployment's `api_key`, else from OPENAI_API_KEY. */
function apiKey(config: OpenAiDeployment): string {
  return config.api_key || process.env.OPENAI_API_KEY || '';
}

/** OpenAI's own API. */
export const openAiProvider = {
  name: 'openai',
  deploymentSchema: openAiDeploymentSchema,
  chatFields: OPENAI_WIRE_CHAT_FIELDS,
  unusableReason: (config) => (apiKey(config) === '' ? 'no API key: set api_key or OPENAI_API_KEY' : null),
  upstreamModel: (config) => config.model,
  create: (config, context) => {
    const headers: Record<string, string> = { ...config.headers };
    if (config.organization) headers['openai-organization'] = config.organization;
    if (config.project) headers['openai-project'] = config.project;
    return new OpenAiWireAdapter({
      baseUrl: config.base_url,
      model: config.model,
      apiKey: apiKey(config),
      headers,
      connections: config.max_connections,
      streamUsage: config.stream_usage,
      timeouts: context.timeouts,
    });
  },
} satisfies ProviderModule<typeof openAiDeploymentSchema>;
