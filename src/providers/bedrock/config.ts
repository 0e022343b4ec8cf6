import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';
import { httpUrl } from '../openai-compatible/config.js';

/** `${VAR:-}` in a config gives '' for an unset variable; that means "not set" here too. */
const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

export const bedrockDeploymentSchema = z
  .strictObject({
    provider: z.literal('bedrock'),
    ...deploymentBaseShape,
    /** Model id, inference profile id (`eu.anthropic…`) or ARN (provisioned throughput, prompt, profile). */
    model: z.string().min(1),
    /**
     * The AWS region; also where the deployment runs for routing. When unset, AWS_REGION or
     * AWS_DEFAULT_REGION (read when the deployment is created).
     */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as eu-central-1')
      .optional(),
    /** Overrides https://bedrock-runtime.{region}.amazonaws.com (VPC endpoints, FIPS, tests). */
    endpoint: httpUrl.optional(),
    /**
     * Static credentials; when access_key_id is unset, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
     * AWS_SESSION_TOKEN are read when the deployment is created.
     */
    access_key_id: optionalSecret,
    secret_access_key: optionalSecret,
    session_token: optionalSecret,
    /** Most keep-alive connections to the endpoint. */
    max_connections: z.number().int().positive().max(10_000).default(128),
    /** Sent as Converse `additionalModelRequestFields` (model-specific parameters such as `top_k`). */
    additional_model_request_fields: z.record(z.string(), z.unknown()).optional(),
    /** A Bedrock guardrail applied to every chat call. */
    guardrail: z
      .strictObject({
        identifier: z.string().min(1),
        version: z.string().min(1),
        trace: z.enum(['enabled', 'disabled', 'enabled_full']).optional(),
      })
      .optional(),
    /** Body format of `/v1/embeddings` (InvokeModel); inferred from the model id when unset. */
    embeddings: z.enum(['titan', 'cohere']).optional(),
    /** Cohere Embed's `input_type`; OpenAI's API has no such field, so the deployment sets it. */
    cohere_input_type: z.enum(['search_document', 'search_query', 'classification', 'clustering']).default('search_document'),
  })
  .superRefine((config, ctx) => {
    if (config.access_key_id !== undefined && config.secret_access_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secret_access_key'], message: 'access_key_id is set, so secret_access_key is needed too' });
    }
    if (config.access_key_id === undefined && config.secret_access_key !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['access_key_id'], message: 'secret_access_key is set, so access_key_id is needed too' });
    }
    if (config.session_token !== undefined && config.access_key_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['session_token'], message: 'a session_token needs access_key_id and secret_access_key' });
    }
  });

export type BedrockDeployment = z.infer<typeof bedrockDeploymentSchema>;
