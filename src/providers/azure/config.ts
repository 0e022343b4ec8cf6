import { z } from 'zod';
import { deploymentBaseShape } from '../../config/deployment-base.js';

/** The current GA data-plane version of Azure OpenAI's dated API, used when a deployment names none. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';
export const ENTRA_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const ENTRA_SCOPE = 'https://cognitiveservices.azure.com/.default';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An https:// URL; http:// only on a loopback host, where emulators and local proxies listen. A key
 * or token sent over plain HTTP to anywhere else would travel in clear text.
 */
function secureUrl(what: string) {
  return z
    .string()
    .url()
    .superRefine((value, ctx) => {
      const url = new URL(value);
      const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
      if (!secure) ctx.addIssue({ code: 'custom', message: `${what} must be an https:// URL (http:// only for localhost)` });
      if (url.search !== '' || url.hash !== '') ctx.addIssue({ code: 'custom', message: `${what} must not have a query or fragment` });
    });
}

const endpointUrl = secureUrl('endpoint').superRefine((value, ctx) => {
  // A common mistake is to paste the SDK's base URL; the gateway adds /openai/… itself.
  if (/\/openai(\/|$)/.test(new URL(value).pathname)) {
    ctx.addIssue({ code: 'custom', message: 'give the resource endpoint without /openai/… (e.g. https://my-resource.openai.azure.com)' });
  }
});

/** Microsoft Entra ID client-credentials sign-in of an app registration (service principal). */
const entraSchema = z.strictObject({
  tenant_id: z.string().min(1, 'tenant_id is required (the directory id or domain)'),
  client_id: z.string().min(1, 'client_id is required (the app registration id)'),
  client_secret: z.string().min(1, 'client_secret is required'),
  /** Sovereign clouds use another host (login.microsoftonline.us, login.chinacloudapi.cn); tests use an emulator. */
  authority_host: secureUrl('authority_host').default(ENTRA_AUTHORITY_HOST),
  scope: z.string().min(1).default(ENTRA_SCOPE),
  /** A token is replaced this long before it expires (at the latest halfway through its life). */
  refresh_before_s: z.number().int().min(0).max(3_600).default(300),
});

export const azureDeploymentSchema = z
  .strictObject({
    provider: z.literal('azure'),
    ...deploymentBaseShape,
    /** The resource endpoint, e.g. https://my-resource.openai.azure.com or https://my-hub.services.ai.azure.com. */
    endpoint: endpointUrl,
    /** The Azure deployment to call with the deployment URL form (`/openai/deployments/{deployment}/…`). */
    deployment: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'an Azure deployment name: letters, digits, . _ - (at most 64)')
      .optional(),
    /** A dated version (`2024-10-21`, `2025-04-01-preview`) for the deployment URL form, or `v1` for the v1 API. */
    api_version: z
      .string()
      .regex(/^(v1|\d{4}-\d{2}-\d{2}(-preview)?)$/, 'use v1 or a dated version such as 2024-10-21 or 2025-04-01-preview')
      .default(AZURE_DEFAULT_API_VERSION),
    /** With `api_version: v1`: the deployment name sent as `model`. Otherwise only reported (logs, headers). */
    model: z.string().min(1).optional(),
    /** Sent as the `api-key` header. Either this or `entra`. */
    api_key: z.string().optional(),
    entra: entraSchema.optional(),
    /** Extra headers for every request (e.g. an API Management subscription key header). */
    headers: z.record(z.string(), z.string()).optional(),
    max_connections: z.number().int().positive().max(10_000).default(128),
    /** Ask for the usage chunk on streams; Azure knows `stream_options` from api-version 2024-09-01-preview on. */
    stream_usage: z.boolean().default(true),
  })
  .superRefine((config, ctx) => {
    if (config.api_version === 'v1') {
      if (config.deployment !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['deployment'],
          message: 'with api_version v1 the deployment name goes into model; remove deployment, or set a dated api_version for the deployment URL form',
        });
      }
      if (config.model === undefined) {
        ctx.addIssue({ code: 'custom', path: ['model'], message: 'model is required with api_version v1: the name of the Azure deployment to call' });
      }
    } else if (config.deployment === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['deployment'],
        message: 'deployment is required (the Azure deployment name), or set api_version: v1 and model for the v1 API',
      });
    }
    if (config.api_key === undefined && config.entra === undefined) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'set api_key, or entra with tenant_id, client_id and client_secret' });
    }
    if (config.api_key !== undefined && config.entra !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['entra'], message: 'set either api_key or entra, not both' });
    }
  });

export type AzureDeployment = z.infer<typeof azureDeploymentSchema>;
export type EntraSettings = NonNullable<AzureDeployment['entra']>;
