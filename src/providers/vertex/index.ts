import { ANTHROPIC_CHAT_FIELDS } from '../anthropic/fields.js';
import { GOOGLE_CHAT_FIELDS } from '../gemini/fields.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { ProviderModule } from '../types.js';
import { VertexAnthropicAdapter, VertexGoogleAdapter } from './adapter.js';
import { VertexAuth, VertexGoogleApi, vertexModelPath, vertexOrigin } from './api.js';
import { loadServiceAccount, ServiceAccountTokens, type ServiceAccount } from './auth.js';
import { vertexDeploymentSchema, type VertexDeployment } from './config.js';
import { vertexStatusError } from './errors.js';

/** Each deployment's service account, read once per loaded config (the check and the build share it). */
const accounts = new WeakMap<VertexDeployment, ServiceAccount | string>();

function accountOf(config: VertexDeployment): ServiceAccount | string {
  let account = accounts.get(config);
  if (account === undefined) {
    account = loadServiceAccount(config);
    accounts.set(config, account);
  }
  return account;
}

function projectOf(config: VertexDeployment, account: ServiceAccount): string | null {
  return config.project ?? account.projectId;
}

/** Google Cloud's Vertex AI: Gemini (publisher google) and Claude (publisher anthropic), with a service account. */
export const vertexProvider = {
  name: 'vertex',
  deploymentSchema: vertexDeploymentSchema,
  chatFields: GOOGLE_CHAT_FIELDS,
  chatFieldsFor: (config) => (config.publisher === 'anthropic' ? ANTHROPIC_CHAT_FIELDS : GOOGLE_CHAT_FIELDS),
  unusableReason: (config) => {
    const account = accountOf(config);
    if (typeof account === 'string') return account;
    if (projectOf(config, account) === null) return 'no project: set project (the service account key names none)';
    return null;
  },
  upstreamModel: (config) => config.model,
  create: (config, context) => {
    const account = accountOf(config);
    if (typeof account === 'string') throw new Error(`vertex deployment ${context.deploymentName}: ${account}`);
    const project = projectOf(config, account)!;
    const tokens = new ServiceAccountTokens(account, { timeouts: context.timeouts });
    const auth = new VertexAuth(tokens, config.headers ?? {});
    const client = new UpstreamClient({
      baseUrl: config.base_url ?? vertexOrigin(config.location),
      timeouts: context.timeouts,
      connections: config.max_connections,
      secrets: [],
      statusError: vertexStatusError(tokens),
    });
    const modelPath = vertexModelPath(project, config.location, config.publisher, config.model);
    if (config.publisher === 'anthropic') {
      return new VertexAnthropicAdapter({ model: config.model, modelPath, maxTokens: config.max_tokens }, client, auth);
    }
    return new VertexGoogleAdapter(new VertexGoogleApi(config.model, modelPath, auth), client, auth);
  },
} satisfies ProviderModule<typeof vertexDeploymentSchema>;
