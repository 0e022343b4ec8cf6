import { openAiCompatibleProvider } from './openai-compatible/index.js';
import { openAiProvider } from './openai/index.js';
import { simulatorProvider } from './simulator/index.js';

/** Every provider Stellwerk can talk to; adding one is one folder and one line here. */
export const PROVIDERS = {
  'openai-compatible': openAiCompatibleProvider,
  openai: openAiProvider,
  simulator: simulatorProvider,
} as const;

export type ProviderName = keyof typeof PROVIDERS;
