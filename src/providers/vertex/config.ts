import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';
import { googleModelId } from '../gemini/config.js';
import { httpUrl } from '../openai-compatible/config.js';

export const vertexDeploymentSchema = z.strictObject({
  provider: z.literal('vertex'),
  ...deploymentBaseShape,
  /** The Google Cloud project; when unset, the service account's own `project_id`. */
  project: z
    .string()
    .regex(/^[a-z][a-z0-9.:-]{3,62}$/, 'a Google Cloud project id, e.g. my-project-123')
    .optional(),
  /** Where the model runs, e.g. `europe-west4`, `us-central1`, or `global`; it decides where data is processed. */
  location: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'a Google Cloud location, e.g. europe-west4, us-central1 or global'),
  /** Who publishes the model: `google` (Gemini) or `anthropic` (Claude on Vertex AI). */
  publisher: z.enum(['google', 'anthropic']).default('google'),
  /** The publisher's model id, e.g. `gemini-2.5-flash` or `claude-sonnet-4-5@20250929`. */
  model: googleModelId,
  /** A service account key file (JSON). */
  credentials_file: z.string().min(1).optional(),
  /** A service account key itself, as JSON text (e.g. `${GCP_SA_KEY}`) or as YAML. */
  credentials_json: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  /** Override of the endpoint's origin (e.g. a Private Service Connect endpoint); default from `location`. */
  base_url: httpUrl.optional(),
  /**
   * Claude requires `max_tokens` on every request; this one is used (publisher anthropic) when the
   * client sets neither `max_completion_tokens` nor `max_tokens`.
   */
  max_tokens: z.number().int().positive().max(1_000_000).default(4096),
  /** Extra headers for every upstream request. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Most keep-alive connections to the endpoint. */
  max_connections: z.number().int().positive().max(10_000).default(128),
});

export type VertexDeployment = z.infer<typeof vertexDeploymentSchema>;
