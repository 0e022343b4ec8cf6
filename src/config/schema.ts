import { z } from 'zod';
import { PROVIDERS, type ProviderName } from '../providers/index.js';
import { privacySchema } from '../guard/pii/policy.js';

const providerNames = Object.keys(PROVIDERS) as ProviderName[];

type DeploymentSchemas = { [K in ProviderName]: (typeof PROVIDERS)[K]['deploymentSchema'] }[ProviderName];

const deploymentSchema = z.discriminatedUnion(
  'provider',
  Object.values(PROVIDERS).map((provider) => provider.deploymentSchema) as unknown as [DeploymentSchemas, ...DeploymentSchemas[]],
  { error: () => `provider must be one of: ${providerNames.join(', ')}` },
);

export type DeploymentConfig = { [K in ProviderName]: z.infer<(typeof PROVIDERS)[K]['deploymentSchema']> }[ProviderName];

const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

export const STRATEGIES = [
  'weighted',
  'round-robin',
  'least-busy',
  'latency',
  'cost',
  'priority',
  'energy',
  // Self-hosted fleets, from the servers' own metrics (docs/fleet.md).
  'least-queue',
  'kv-aware',
  'prefix-affinity',
  'lora-affinity',
  'least-work',
  'fleet',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];

const RETRYABLE = ['connect', 'reset', 'timeout', 408, 429, 500, 502, 503, 504] as const;

const retrySchema = z.strictObject({
  /** Attempts in all, the first included (1 = no retry). */
  attempts: z.number().int().min(1).max(10).default(3),
  initial_backoff_ms: z.number().int().min(0).default(100),
  max_backoff_ms: z.number().int().min(0).default(2_000),
  /** What is retried: transport failures and upstream statuses. */
  on: z.array(z.union([z.enum(['connect', 'reset', 'timeout']), z.number().int().min(400).max(599)])).default([...RETRYABLE]),
  /** The whole request's time for all attempts and waits. */
  budget_ms: z.number().int().positive().default(60_000),
});

const breakerSchema = z.strictObject({
  /** Consecutive failures that open the circuit. */
  failures: z.number().int().min(1).default(5),
  /** Error rate over the window that opens it, once `min_requests` were seen. */
  error_rate: z.number().gt(0).max(1).default(0.5),
  window_ms: z.number().int().min(1_000).default(30_000),
  min_requests: z.number().int().min(1).default(20),
  /** How long an open circuit sends nothing before a probe. */
  open_ms: z.number().int().min(100).default(15_000),
  /** Requests let through at once while half-open. */
  probes: z.number().int().min(1).default(1),
});

const resilienceSchema = z
  .strictObject({
    retry: retrySchema.prefault({}),
    breaker: breakerSchema.prefault({}),
    /** Cooldown after an upstream 429 that gave no retry-after. */
    rate_limit_cooldown_ms: z.number().int().min(0).default(5_000),
    /** Whether clients may pin a deployment or region with x-stellwerk-deployment / x-stellwerk-region. */
    allow_pinning: z.boolean().default(true),
  })
  .prefault({});

export type RetryConfig = z.infer<typeof retrySchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;
export type ResilienceConfig = z.infer<typeof resilienceSchema>;

const fleetWeightsSchema = z
  .strictObject({
    queue: z.number().min(0).default(1),
    kv: z.number().min(0).default(1),
    prefix: z.number().min(0).default(1),
    lora: z.number().min(0).default(1),
    /** Prompt tokens outstanding on the server (sent, no first byte yet) plus this prompt's uncached part. */
    work: z.number().min(0).default(1),
  })
  .prefault({});

/** Scraping of self-hosted servers' metrics (docs/fleet.md); an alias may override the timing for its servers. */
const fleetTimingShape = {
  /** How often each server's metrics are read. */
  scrape_interval_ms: z.number().int().min(50).max(60_000),
  /** A reading older than this is not used for routing (the gateway's in-flight counts are). */
  stale_after_ms: z.number().int().min(100).max(600_000),
};

const fleetSchema = z
  .strictObject({
    scrape_interval_ms: fleetTimingShape.scrape_interval_ms.default(250),
    stale_after_ms: fleetTimingShape.stale_after_ms.default(2_000),
    /** Each scrape's timeout; default 80% of the interval (always shorter than it). */
    scrape_timeout_ms: z.number().int().min(10).optional(),
    /** Prompt characters per block for prefix affinity, and the most blocks hashed per request. */
    prefix_block_chars: z.number().int().min(16).max(65_536).default(256),
    prefix_max_blocks: z.number().int().min(1).max(100_000).default(512),
    /** Prompt blocks remembered per server. */
    prefix_cache_blocks: z.number().int().min(16).max(10_000_000).default(16_384),
    /** The window over which GET /admin/fleet counts each server's share of traffic. */
    share_window_ms: z.number().int().min(1_000).default(60_000),
  })
  .prefault({});

export type FleetConfig = z.infer<typeof fleetSchema>;

const routingSchema = z
  .strictObject({
    strategy: z.enum(STRATEGIES).default('weighted'),
    /** `latency`: how fast an idle deployment's record fades, so it gets traffic again after recovering. */
    latency_decay_ms: z.number().int().positive().default(60_000),
    /** `energy`: what to minimise, the expected Wh or the expected gCO₂e of the request. */
    minimize: z.enum(['energy', 'carbon']).default('energy'),
    /** `energy`: only deployments whose expected time to first token is within this bound (when any is). */
    max_ttft_ms: z.number().int().positive().optional(),
    /** `fleet` and `kv-aware`: how much each signal counts (docs/fleet.md). */
    weights: fleetWeightsSchema,
    /**
     * `prefix-affinity` and `fleet`: a server takes a request only while its load stays within
     * (1 + imbalance) × the mean, so a hot prefix spills over instead of piling up.
     */
    imbalance: z.number().min(0).max(10).default(0.5),
  })
  .prefault({});

const modelSchema = z.strictObject({
  /** The alias clients send as `model`. */
  name: z.string().regex(ALIAS_PATTERN, 'use letters, digits and . _ : / @ + - (at most 200, starting with a letter or digit)'),
  deployments: z.array(deploymentSchema).min(1, 'an alias needs at least one deployment'),
  routing: routingSchema,
  /** Overrides resilience.retry for this alias. */
  retry: retrySchema.optional(),
  /** Aliases tried in order when every deployment of this one failed. */
  fallbacks: z.array(z.string()).default([]),
  /** Aliases tried when the prompt is too long for this one's context window. */
  context_window_fallbacks: z.array(z.string()).default([]),
  /** What the PII guard does with personal data sent to this alias (docs/privacy.md). */
  privacy: privacySchema.optional(),
  /** Scrape timing for this alias's self-hosted servers (the global `fleet` otherwise). */
  fleet: z.strictObject({ scrape_interval_ms: fleetTimingShape.scrape_interval_ms.optional(), stale_after_ms: fleetTimingShape.stale_after_ms.optional() }).optional(),
});

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(4000),
    /** Largest request body accepted; larger ones get 413. */
    max_body_bytes: z.number().int().positive().max(1024 * 1024 * 1024).default(10 * 1024 * 1024),
    /** How long a graceful shutdown waits for in-flight requests and streams. */
    shutdown_timeout_ms: z.number().int().min(0).default(30_000),
  })
  .prefault({});

const authSchema = z
  .strictObject({
    /** When set, every /v1 request needs it as a Bearer token (or x-api-key). Empty means unset. */
    master_key: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || value.length >= 8, 'must be at least 8 characters'),
  })
  .prefault({});

const governanceSchema = z
  .strictObject({
    /** Postgres for replicas (`postgres://…`); empty: the embedded SQLite file below. */
    database_url: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL'),
    sqlite_path: z.string().min(1).default('./data/stellwerk.db'),
    /** Redis for limits, budgets and change notifications shared by replicas; empty: in memory. */
    redis_url: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || /^rediss?:\/\//.test(value), 'must be a redis:// or rediss:// URL'),
    /** Prefix of every Redis key and channel, so several gateways (or tests) can share one Redis. */
    redis_prefix: z.string().min(1).default('stellwerk:'),
    /**
     * Secret mixed into key hashes (HMAC-SHA256). All replicas need the same one. Empty: a random
     * pepper is created once next to the SQLite file (single instance only).
     */
    key_pepper: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters'),
    /** When Redis cannot be reached: refuse requests (503), or fall back to per-replica limits. */
    on_redis_unavailable: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /**
     * With Redis: a busy key or team leases blocks of its limits for this long and is admitted in
     * memory (docs/limits.md#leases); 0: every admission asks Redis. At most 60 000 (the window).
     */
    limit_lease_ms: z.number().int().min(0).max(60_000).default(1_000),
    /** How long the old key keeps working after a rotation. */
    rotation_grace_ms: z.number().int().min(0).default(24 * 3600 * 1000),
    /**
     * `background`: the thread that writes the request log (and the requests' audit entries) runs
     * only on a core nothing else wants, with a second one at normal priority while it is more
     * than 2,048 rows or five seconds behind; `normal`: one writer thread, scheduled like every other.
     */
    request_log_priority: z.enum(['background', 'normal']).default('background'),
    /** Request log rows older than this are deleted in the background; 0 keeps them. */
    retention_days: z.number().int().min(0).default(90),
  })
  .prefault({});

export type GovernanceConfig = z.infer<typeof governanceSchema>;

/** The audit log (docs/audit.md): a hash chain of admin actions and request metadata, with signed checkpoints. */
const auditSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Signs checkpoints (HMAC-SHA256); keep it apart from the database. Empty: checkpoints are unsigned. */
    hmac_secret: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters'),
    /** A checkpoint after this many entries… */
    checkpoint_every: z.number().int().min(1).default(1000),
    /** …or after this long, when there are new entries. */
    checkpoint_interval_ms: z.number().int().min(1000).default(60_000),
  })
  .prefault({});

export type AuditConfig = z.infer<typeof auditSchema>;

/** The web dashboard at /ui (docs/dashboard.md). */
const uiSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Signs the dashboard's session cookies (HMAC-SHA256); every replica needs the same one.
     * Empty: derived from governance.key_pepper (or the local pepper file).
     */
    session_secret: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || value.length >= 32, 'must be at least 32 characters'),
    /** How long a dashboard sign-in lasts. */
    session_ttl_ms: z.number().int().min(60_000).default(8 * 3600 * 1000),
    /** Where the built dashboard is; empty: dist/ui of the installed package. */
    dist_dir: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value)),
  })
  .prefault({});

export type UiConfig = z.infer<typeof uiSchema>;

const loggingSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .prefault({});

/**
 * OpenTelemetry traces (docs/observability.md). Off unless an endpoint is set here or in
 * OTEL_EXPORTER_OTLP_ENDPOINT; when off, the SDK is not even loaded.
 */
const telemetrySchema = z
  .strictObject({
    /** OTLP/HTTP base URL of the collector (`/v1/traces` is appended unless the path ends with it). */
    otlp_endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** `service.name` of the spans; default OTEL_SERVICE_NAME, else `stellwerk`. */
    service_name: z.string().min(1).optional(),
    /** Share of new traces recorded (a client's sampled flag is followed). */
    sample_ratio: z.number().min(0).max(1).default(1),
  })
  .prefault({});

export type TelemetryConfig = z.infer<typeof telemetrySchema>;

export const configSchema = z
  .strictObject({
    server: serverSchema,
    auth: authSchema,
    logging: loggingSchema,
    telemetry: telemetrySchema,
    resilience: resilienceSchema,
    governance: governanceSchema,
    audit: auditSchema,
    ui: uiSchema,
    fleet: fleetSchema,
    models: z.array(modelSchema).min(1, 'list at least one model'),
  })
  .superRefine((config, ctx) => {
    const aliases = new Map<string, number>();
    const deployments = new Map<string, string>();
    config.models.forEach((model, modelIndex) => {
      const first = aliases.get(model.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['models', modelIndex, 'name'], message: `duplicate alias "${model.name}" (first at models[${first}])` });
      } else aliases.set(model.name, modelIndex);
      for (const key of ['fallbacks', 'context_window_fallbacks'] as const) {
        model[key].forEach((target, index) => {
          if (!config.models.some((other) => other.name === target)) {
            ctx.addIssue({ code: 'custom', path: ['models', modelIndex, key, index], message: `no model named "${target}"` });
          } else if (target === model.name) {
            ctx.addIssue({ code: 'custom', path: ['models', modelIndex, key, index], message: 'a model cannot fall back to itself' });
          }
        });
      }
      model.deployments.forEach((deployment, index) => {
        const name = deploymentName(model.name, index, deployment);
        const path = `models[${modelIndex}].deployments[${index}]`;
        const other = deployments.get(name);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['models', modelIndex, 'deployments', index, 'name'], message: `duplicate deployment name "${name}" (also ${other})` });
        } else deployments.set(name, path);
        checkFleetFields(deployment, ['models', modelIndex, 'deployments', index], ctx);
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ModelConfig = Config['models'][number];

/** Self-hosted is for servers of one's own (openai-compatible); engine and metrics_url only mean something there. */
function checkFleetFields(deployment: DeploymentConfig, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (deployment.kind === 'self-hosted' && deployment.provider !== 'openai-compatible') {
    ctx.addIssue({ code: 'custom', path: [...path, 'kind'], message: `provider ${deployment.provider} is a cloud service; only openai-compatible deployments may be self-hosted` });
  }
  for (const field of ['engine', 'metrics_url'] as const) {
    if (deployment[field] !== undefined && deployment.kind !== 'self-hosted') {
      ctx.addIssue({ code: 'custom', path: [...path, field], message: `${field} needs kind: self-hosted` });
    }
  }
}

/** A deployment's name: its own `name`, else `<alias>/<index>`. */
export function deploymentName(alias: string, index: number, deployment: { name?: string | undefined }): string {
  return deployment.name ?? `${alias}/${index}`;
}
