import { z } from 'zod';
import { PROVIDERS, type ProviderName } from '../providers/index.js';

const providerNames = Object.keys(PROVIDERS) as ProviderName[];

type DeploymentSchemas = { [K in ProviderName]: (typeof PROVIDERS)[K]['deploymentSchema'] }[ProviderName];

const deploymentSchema = z.discriminatedUnion(
  'provider',
  Object.values(PROVIDERS).map((provider) => provider.deploymentSchema) as unknown as [DeploymentSchemas, ...DeploymentSchemas[]],
  { error: () => `provider must be one of: ${providerNames.join(', ')}` },
);

export type DeploymentConfig = { [K in ProviderName]: z.infer<(typeof PROVIDERS)[K]['deploymentSchema']> }[ProviderName];

const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

const modelSchema = z.strictObject({
  /** The alias clients send as `model`. */
  name: z.string().regex(ALIAS_PATTERN, 'use letters, digits and . _ : / @ + - (at most 200, starting with a letter or digit)'),
  deployments: z.array(deploymentSchema).min(1, 'an alias needs at least one deployment'),
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

const loggingSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    server: serverSchema,
    auth: authSchema,
    logging: loggingSchema,
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
      model.deployments.forEach((deployment, index) => {
        const name = deploymentName(model.name, index, deployment);
        const path = `models[${modelIndex}].deployments[${index}]`;
        const other = deployments.get(name);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['models', modelIndex, 'deployments', index, 'name'], message: `duplicate deployment name "${name}" (also ${other})` });
        } else deployments.set(name, path);
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ModelConfig = Config['models'][number];

/** A deployment's name: its own `name`, else `<alias>/<index>`. */
export function deploymentName(alias: string, index: number, deployment: { name?: string | undefined }): string {
  return deployment.name ?? `${alias}/${index}`;
}
