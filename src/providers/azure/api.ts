import type { Timeouts } from '../../config/deployment-base.js';
import type { UpstreamCall } from '../types.js';
import type { AzureDeployment } from './config.js';
import { EntraTokenSource } from './entra-token.js';

/** The OpenAI operations Azure serves under a deployment (and under /openai/v1). */
export type AzureOperation = '/chat/completions' | '/completions' | '/embeddings';

/**
 * Where a deployment's requests go. Two URL forms:
 * - deployment form: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}`;
 *   the deployment in the path chooses the model.
 * - v1 form (`api_version: v1`): `{endpoint}/openai/v1/chat/completions`, no api-version; the
 *   deployment name travels as `model` in the body, as with OpenAI.
 */
export interface AzureRoute {
  /** Base URL of the pool: origin plus the path prefix every operation shares. */
  readonly baseUrl: string;
  /** The path of an operation below the base URL, with its query. */
  path(operation: AzureOperation): string;
  /** What the request body's `model` says. */
  readonly bodyModel: string;
}

export function azureRoute(config: AzureDeployment): AzureRoute {
  const endpoint = config.endpoint.replace(/\/+$/, '');
  if (config.api_version === 'v1') {
    const model = config.model!;
    return { baseUrl: `${endpoint}/openai/v1`, path: (operation) => operation, bodyModel: model };
  }
  const deployment = config.deployment!;
  const query = `?api-version=${encodeURIComponent(config.api_version)}`;
  return {
    baseUrl: `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}`,
    path: (operation) => `${operation}${query}`,
    // Azure ignores `model` in the deployment form; the deployment's model name keeps logs honest.
    bodyModel: config.model ?? deployment,
  };
}

/** How a deployment proves who it is: its `api-key`, or a bearer token from Entra ID. */
export interface AzureAuth {
  headers(call: UpstreamCall): Promise<Record<string, string>>;
  /** Values never to show a client: the key or the client secret. */
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

export function azureAuth(config: AzureDeployment, timeouts: Timeouts): AzureAuth {
  const entra = config.entra;
  if (entra === undefined) {
    const headers = { 'api-key': config.api_key ?? '' };
    return { headers: () => Promise.resolve(headers), secrets: [config.api_key ?? ''], close: () => Promise.resolve() };
  }
  const tokens = new EntraTokenSource({ settings: entra, timeouts });
  return {
    headers: async (call) => ({ authorization: `Bearer ${await tokens.token(call.signal)}` }),
    secrets: [entra.client_secret],
    close: () => tokens.close(),
  };
}
