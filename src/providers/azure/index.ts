import type { ProviderModule } from '../types.js';
import { AzureAdapter } from './adapter.js';
import { azureAuth, azureRoute } from './api.js';
import { azureDeploymentSchema } from './config.js';
import { AZURE_CHAT_FIELDS } from './fields.js';

/** Azure OpenAI and Azure AI Foundry (OpenAI models): deployment URLs with api-version, or the v1 API. */
export const azureProvider = {
  name: 'azure',
  deploymentSchema: azureDeploymentSchema,
  chatFields: AZURE_CHAT_FIELDS,
  unusableReason: (config) =>
    config.api_key === '' ? 'api_key is empty (is the environment variable it refers to set?)' : null,
  upstreamModel: (config) => config.model ?? config.deployment ?? '',
  create: (config, context) =>
    new AzureAdapter({
      route: azureRoute(config),
      auth: azureAuth(config, context.timeouts),
      headers: config.headers ?? {},
      connections: config.max_connections,
      streamUsage: config.stream_usage,
      timeouts: context.timeouts,
    }),
} satisfies ProviderModule<typeof azureDeploymentSchema>;
