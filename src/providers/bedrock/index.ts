import type { ProviderModule } from '../types.js';
import { BedrockAdapter } from './adapter.js';
import { endpointUrl, missingSettings, resolveCredentials, resolveRegion } from './api.js';
import { bedrockDeploymentSchema } from './config.js';
import { embeddingDialect } from './embeddings.js';
import { BEDROCK_CHAT_FIELDS } from './fields.js';

/** AWS Bedrock Runtime (Converse, ConverseStream, InvokeModel for embeddings), signed with SigV4. */
export const bedrockProvider = {
  name: 'bedrock',
  deploymentSchema: bedrockDeploymentSchema,
  chatFields: BEDROCK_CHAT_FIELDS,
  unusableReason: (config) => missingSettings(config),
  upstreamModel: (config) => config.model,
  create: (config, context) => {
    // Credentials and region are read once, here: a changed environment takes effect on reload.
    const credentials = resolveCredentials(config);
    const region = resolveRegion(config);
    if (credentials === null || region === null) throw new Error(`deployment ${context.deploymentName}: ${missingSettings(config)}`);
    return new BedrockAdapter({
      endpoint: endpointUrl(config, region),
      region,
      credentials,
      model: config.model,
      connections: config.max_connections,
      timeouts: context.timeouts,
      extras: {
        ...(config.additional_model_request_fields === undefined ? {} : { additionalModelRequestFields: config.additional_model_request_fields }),
        ...(config.guardrail === undefined ? {} : { guardrail: config.guardrail }),
      },
      embeddings: embeddingDialect(config.model, config.embeddings),
      cohereInputType: config.cohere_input_type,
    });
  },
} satisfies ProviderModule<typeof bedrockDeploymentSchema>;
