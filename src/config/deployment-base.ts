import { z } from 'zod';
import { accountingShape } from '../accounting/config.js';

/**
 * Fields every deployment has, whatever its provider. Each provider extends this with its own
 * fields in its folder (`providers/<name>/config.ts`); the config schema unites them by `provider`.
 */

export const timeoutsSchema = z
  .strictObject({
    /** TCP (and TLS) connect. */
    connect_ms: z.number().int().positive().default(5_000),
    /** Until the upstream's response headers arrive; for a non-streamed answer that is the whole generation. */
    first_byte_ms: z.number().int().positive().default(120_000),
    /** Longest silence between two body chunks (a stalled stream). */
    idle_ms: z.number().int().positive().default(60_000),
    /** The whole upstream call, from sending to the last byte. */
    total_ms: z.number().int().positive().default(600_000),
  })
  .prefault({});

export type Timeouts = z.infer<typeof timeoutsSchema>;

/** Price of a deployment's tokens in USD per million; used by the `cost` strategy and accounting. */
export const priceSchema = z.strictObject({
  input_per_1m: z.number().min(0),
  output_per_1m: z.number().min(0),
  cached_input_per_1m: z.number().min(0).optional(),
});

export type Price = z.infer<typeof priceSchema>;

/** Optional active health check: GET on the upstream's origin, e.g. `/health` of vLLM, TGI or llama.cpp. */
export const healthCheckSchema = z.strictObject({
  path: z.string().startsWith('/').default('/health'),
  interval_ms: z.number().int().min(1_000).default(10_000),
  timeout_ms: z.number().int().positive().default(2_000),
});

/** Where a deployment runs: a cloud service, or an inference server of one's own whose metrics the fleet reads. */
export const DEPLOYMENT_KINDS = ['cloud', 'self-hosted'] as const;

/** Inference server software of a self-hosted deployment; `auto` detects it from the metric names. */
export const ENGINE_NAMES = ['vllm', 'sglang', 'tgi', 'llamacpp', 'ollama', 'auto'] as const;

export const deploymentBaseShape = {
  /** Shown in `x-stellwerk-deployment`, logs and metrics; defaults to `<alias>/<index>`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:/@-]{1,128}$/, 'use letters, digits and . _ : / @ - (at most 128)')
    .optional(),
  timeouts: timeoutsSchema,
  /** Share of traffic under the `weighted` strategy (and within a tier under `priority`). */
  weight: z.number().min(0).default(1),
  /** Tier under the `priority` strategy: lower first (e.g. own GPUs 0, cloud 1). */
  priority: z.number().int().min(0).default(0),
  /** Where the deployment runs (e.g. eu-central-1, on-prem-fra); requests may pin a region. */
  region: z.string().min(1).optional(),
  tags: z.array(z.string().min(1)).default([]),
  /** Most requests in flight at once; more are not sent here (the priority strategy spills over). */
  max_concurrency: z.number().int().positive().optional(),
  /** The upstream account's own limits, respected by the gateway (per replica). */
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  price: priceSchema.optional(),
  health_check: healthCheckSchema.optional(),
  /** `self-hosted` (openai-compatible only): the fleet strategies read its server's metrics (docs/fleet.md). */
  kind: z.enum(DEPLOYMENT_KINDS).optional(),
  /** Self-hosted: the server software, for its metric names; `auto` by default. */
  engine: z.enum(ENGINE_NAMES).optional(),
  /** Self-hosted: its Prometheus metrics; default `<base_url without /v1>/metrics`. */
  metrics_url: z
    .string()
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
    .optional(),
  /** Hour cost, hardware, PUE and grid for cost, energy and carbon accounting (docs/energy.md). */
  ...accountingShape,
};
