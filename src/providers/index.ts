import { anthropicProvider } from './anthropic/index.js';
import { azureProvider } from './azure/index.js';
import { mistralProvider } from './mistral/index.js';
import { bedrockProvider } from './bedrock/index.js';
import { geminiProvider } from './gemini/index.js';
import { openAiCompatibleProvider } from './openai-compatible/index.js';
import { openAiProvider } from './openai/index.js';
import { simulatorProvider } from './simulator/index.js';
import { vertexProvider } from './vertex/index.js';

/** Every provider Stellwerk can talk to; adding one is one folder and one line here. */
export const PROVIDERS = {
  'openai-compatible': openAiCompatibleProvider,
  openai: openAiProvider,
  simulator: simulatorProvider,
  bedrock: bedrockProvider,
  azure: azureProvider,
  mistral: mistralProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  vertex: vertexProvider,
} as const;

export type ProviderName = keyof typeof PROVIDERS;
