import type { ProviderModule } from '../types.js';
import { OpenAiWireAdapter } from './adapter.js';
import { openAiCompatibleDeploymentSchema } from './config.js';
import { OPENAI_WIRE_CHAT_FIELDS } from './fields.js';

/** Any self-hosted or third-party server with OpenAI's API: vLLM, SGLang, TGI, llama.cpp, Ollama, LM Studio. */
export const openAiCompatibleProvider = {
  name: 'openai-compatible',
  deploymentSchema: openAiCompatibleDeploymentSchema,
  chatFields: OPENAI_WIRE_CHAT_FIELDS,
  unusableReason: () => null,
  upstreamModel: (config) => config.model,
  create: (config, context) =>
    new OpenAiWireAdapter({
      baseUrl: config.base_url,
      model: config.model,
      apiKey: config.api_key ?? '',
      headers: config.headers ?? {},
      connections: config.max_connections,
      streamUsage: config.stream_usage,
      timeouts: context.timeouts,
    }),
} satisfies ProviderModule<typeof openAiCompatibleDeploymentSchema>;
