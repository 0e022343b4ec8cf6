import { z } from 'zod';
import { GPU_NAMES } from './hardware.js';
import { GRID_INTENSITY } from './grid.js';

const metricsUrl = z.url({ protocol: /^https?$/, error: 'use an http:// or https:// URL of a Prometheus metrics endpoint' });

export const telemetrySchema = z.strictObject({
  /** The DCGM exporter of the deployment's GPUs, e.g. http://gpu-1:9400/metrics. */
  dcgm_url: metricsUrl,
  /** The inference server's Prometheus endpoint (vLLM, SGLang or TGI), e.g. http://gpu-1:8000/metrics. */
  metrics_url: metricsUrl,
  /** Time between scrapes. */
  interval_ms: z.number().int().min(1_000).max(300_000).default(5_000),
  /** The sliding window the coefficients are fitted over. */
  window_s: z.number().int().min(60).max(86_400).default(600),
  /** Longest wait for one scrape. */
  timeout_ms: z.number().int().positive().max(60_000).default(2_000),
  /** Only these GPUs of the exporter (index as in its `gpu` label, or the `UUID`); default all. */
  gpus: z.array(z.union([z.number().int().min(0), z.string().min(1)])).min(1).optional(),
});

export type TelemetrySettings = z.infer<typeof telemetrySchema>;

/**
 * Deployment fields for accounting (money, energy, carbon), spread into every deployment's
 * schema by config/deployment-base.ts. All optional: without them, cloud deployments are
 * estimated from the shipped tables and own GPUs get no energy figure.
 */
export const accountingShape = {
  /** Own GPUs: what the servers behind this deployment cost per hour (USD), shared over their busy time. */
  cost_per_hour: z.number().min(0).optional(),
  /** The accelerators serving this deployment; enables the parametric energy model. */
  hardware: z
    .strictObject({
      gpu: z.enum(GPU_NAMES),
      count: z.number().int().min(1).max(1024).default(1),
    })
    .optional(),
  /** Model size in billions of parameters, when the shipped table does not know the model. */
  params_b: z
    .strictObject({
      /** Parameters used per token (MoE: the active experts). */
      active: z.number().positive(),
      /** All parameters (what must be read from memory); defaults to `active`. */
      total: z.number().positive().optional(),
    })
    .optional(),
  /** Sequences decoded together at the deployment's usual load (default 64). */
  batch_size: z.number().int().min(1).max(4096).optional(),
  /** Power usage effectiveness of the data centre (facility energy / IT energy). */
  pue: z.number().min(1).max(3).optional(),
  /** Grid carbon intensity in gCO₂e/kWh; overrides `grid`. */
  carbon_intensity: z.number().min(0).max(2000).optional(),
  /** Country (ISO 3166-1 alpha-2) whose yearly average grid intensity applies, e.g. DE. */
  grid: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'use a two-letter country code, e.g. DE')
    .transform((code) => code.toUpperCase())
    .refine((code) => Object.hasOwn(GRID_INTENSITY, code), `no grid intensity shipped for this country; set carbon_intensity (known: ${Object.keys(GRID_INTENSITY).join(', ')})`)
    .optional(),
  /**
   * Own GPUs: scrape the GPUs' energy (DCGM exporter) and the inference server's token counters,
   * and fit J per token and idle watts from them (the `telemetry` method, docs/energy.md).
   */
  telemetry: telemetrySchema.optional(),
};
