import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';
import { httpUrl } from '../openai-compatible/config.js';

export const MISTRAL_BASE_URL = 'https://api.mistral.ai/v1';

export const mistralDeploymentSchema = z.strictObject({
  provider: z.literal('mistral'),
  ...deploymentBaseShape,
  /** Mistral's model id, e.g. mistral-large-latest, mistral-small-2506, mistral-embed. */
  model: z.string().min(1, 'model is required (a Mistral model id such as mistral-large-latest)'),
  /** Sent as `Authorization: Bearer …`; MISTRAL_API_KEY is used when this is not set. */
  api_key: z.string().optional(),
  /** Up to and including /v1; other hosts serve the same API (e.g. a private Mistral deployment). */
  base_url: httpUrl.default(MISTRAL_BASE_URL),
  /** Mistral's `safe_prompt` (a safety system prompt) for every request that does not set it itself. */
  safe_prompt: z.boolean().optional(),
  /** Extra headers for every request. */
  headers: z.record(z.string(), z.string()).optional(),
  max_connections: z.number().int().positive().max(10_000).default(128),
});

export type MistralDeployment = z.infer<typeof mistralDeploymentSchema>;
