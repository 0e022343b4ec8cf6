import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';

/** Fields shared by every deployment that speaks OpenAI's wire format over HTTP. */
export const openAiWireShape = {
  ...deploymentBaseShape,
  /** The upstream's model id; the gateway puts it into `model` of every request it sends. */
  model: z.string().min(1),
  /** Sent as `Authorization: Bearer …`; empty means no auth header. */
  api_key: z.string().optional(),
  /** Extra headers for every upstream request (e.g. a tenant header of a self-hosted server). */
  headers: z.record(z.string(), z.string()).optional(),
  /** Most keep-alive connections to this upstream. */
  max_connections: z.number().int().positive().max(10_000).default(128),
  /**
   * Ask the upstream for a usage chunk on streamed answers (`stream_options.include_usage`), so
   * the gateway always learns token use. Turn off only for servers that reject the field.
   */
  stream_usage: z.boolean().default(true),
};

export const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL');

export const openAiCompatibleDeploymentSchema = z.strictObject({
  provider: z.literal('openai-compatible'),
  base_url: httpUrl,
  ...openAiWireShape,
});

export type OpenAiCompatibleDeployment = z.infer<typeof openAiCompatibleDeploymentSchema>;
