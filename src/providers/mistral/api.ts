import type { MistralDeployment } from './config.js';

/** Mistral's endpoints below the base URL (which ends in /v1). */
export const CHAT_PATH = '/chat/completions';
export const EMBEDDINGS_PATH = '/embeddings';

/** The key comes from the deployment's `api_key`, else from MISTRAL_API_KEY (as `openai` does with OPENAI_API_KEY). */
export function mistralApiKey(config: MistralDeployment, env: NodeJS.ProcessEnv = process.env): string {
  return config.api_key || env.MISTRAL_API_KEY || '';
}

/** The headers of every request: JSON, the bearer key, and the deployment's extra headers. */
export function mistralHeaders(apiKey: string, extra: Readonly<Record<string, string>>): Record<string, string> {
  return { 'content-type': 'application/json', accept: 'application/json', ...extra, authorization: `Bearer ${apiKey}` };
}
