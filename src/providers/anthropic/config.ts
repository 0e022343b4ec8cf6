import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/** The API root as Anthropic's SDKs take it (ANTHROPIC_BASE_URL): without `/v1`, which the gateway adds. */
const baseUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
  .refine((value) => !/\/v1\/?$/.test(value), 'leave out the trailing /v1: the gateway sends to {base_url}/v1/messages');

export const anthropicDeploymentSchema = z.strictObject({
  provider: z.literal('anthropic'),
  ...deploymentBaseShape,
  /** Anthropic's model id, e.g. claude-sonnet-4-5; sent as `model` of every request. */
  model: z.string().min(1, 'name the Anthropic model id, e.g. claude-sonnet-4-5'),
  /** Sent as `x-api-key`; when not set, ANTHROPIC_API_KEY is used. */
  api_key: z.string().optional(),
  base_url: baseUrl.default(ANTHROPIC_BASE_URL),
  /**
   * Anthropic requires `max_tokens` on every request; this one is used when the client sets
   * neither `max_completion_tokens` nor `max_tokens`.
   */
  max_tokens: z.number().int().positive().max(1_000_000).default(4096),
  /** Beta features, sent as `anthropic-beta: a,b`. */
  anthropic_beta: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a beta name: letters, digits and . _ -')).optional(),
  /** Most keep-alive connections to the API. */
  max_connections: z.number().int().positive().max(10_000).default(128),
});

export type AnthropicDeployment = z.infer<typeof anthropicDeploymentSchema>;

/** The key comes from the deployment's `api_key`, else from ANTHROPIC_API_KEY. */
export function anthropicApiKey(config: AnthropicDeployment, env: NodeJS.ProcessEnv = process.env): string {
  return config.api_key || env.ANTHROPIC_API_KEY || '';
}
