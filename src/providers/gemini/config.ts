import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';
import { httpUrl } from '../openai-compatible/config.js';

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** A Google model id as it goes into a URL path: letters, digits and . _ - @ (no query, no traversal). */
export const googleModelId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'use the model id alone, e.g. gemini-2.5-flash (letters, digits and . _ - @)');

export const geminiDeploymentSchema = z.strictObject({
  provider: z.literal('gemini'),
  ...deploymentBaseShape,
  /** The Gemini API model id, e.g. `gemini-2.5-flash`; `tunedModels/…` for a tuned model. */
  model: z
    .string()
    .regex(/^(?:(?:models|tunedModels)\/)?[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'use the model id, e.g. gemini-2.5-flash (or models/… or tunedModels/…)'),
  /** Sent as `x-goog-api-key`; when unset, GEMINI_API_KEY or GOOGLE_API_KEY from the environment. */
  api_key: z.string().optional(),
  /** The API root including its version; the default is Google's. */
  base_url: httpUrl.default(GEMINI_BASE_URL),
  /** Extra headers for every upstream request. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Most keep-alive connections to the API. */
  max_connections: z.number().int().positive().max(10_000).default(128),
});

export type GeminiDeployment = z.infer<typeof geminiDeploymentSchema>;
