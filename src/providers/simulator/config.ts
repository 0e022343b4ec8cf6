import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';

export const simulatorDeploymentSchema = z.strictObject({
  provider: z.literal('simulator'),
  ...deploymentBaseShape,
  /** The model name the simulator reports in its answers. */
  model: z.string().min(1).default('stellwerk-simulator'),
  /** Delay before the first token. */
  ttft_ms: z.number().min(0).max(600_000).default(150),
  /** Pace of the following tokens; 0 sends them all at once. */
  tokens_per_second: z.number().min(0).max(1_000_000).default(50),
  /** Length of an answer when the request sets no max_tokens. */
  output_tokens: z.number().int().positive().max(100_000).default(24),
  /** Length of the vectors `/v1/embeddings` returns when the request sets no `dimensions`. */
  embedding_dimensions: z.number().int().positive().max(8_192).default(16),
});

export type SimulatorDeployment = z.infer<typeof simulatorDeploymentSchema>;
