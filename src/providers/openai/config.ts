import { z } from 'zod';
import { httpUrl, openAiWireShape } from '../openai-compatible/config.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export const openAiDeploymentSchema = z.strictObject({
  provider: z.literal('openai'),
  ...openAiWireShape,
  base_url: httpUrl.default(OPENAI_BASE_URL),
  /** Sent as `OpenAI-Organization`. */
  organization: z.string().optional(),
  /** Sent as `OpenAI-Project`. */
  project: z.string().optional(),
});

export type OpenAiDeployment = z.infer<typeof openAiDeploymentSchema>;
