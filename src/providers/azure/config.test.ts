import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { azureAuth, azureRoute } from './api.js';
import { AZURE_DEFAULT_API_VERSION, azureDeploymentSchema, ENTRA_AUTHORITY_HOST, ENTRA_SCOPE, type AzureDeployment } from './config.js';
import { AZURE_CHAT_FIELDS } from './fields.js';
import { azureProvider } from './index.js';

const ENDPOINT = 'https://my-resource.openai.azure.com';
const ENTRA = { tenant_id: 't', client_id: 'c', client_secret: 's3cret' };

function parse(input: Record<string, unknown>): AzureDeployment {
  return azureDeploymentSchema.parse({ provider: 'azure', endpoint: ENDPOINT, ...input });
}

/** Every problem as "path: message". */
function problems(input: Record<string, unknown>): string[] {
  const result = azureDeploymentSchema.safeParse({ provider: 'azure', endpoint: ENDPOINT, ...input });
  assert.equal(result.success, false, 'expected the config to be refused');
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

test('the deployment form: deployment and api_key, with the GA api-version by default', () => {
  const config = parse({ deployment: 'gpt4o-prod', api_key: 'k' });
  assert.equal(config.api_version, AZURE_DEFAULT_API_VERSION);
  assert.equal(config.stream_usage, true);
  assert.equal(azureProvider.upstreamModel(config), 'gpt4o-prod');
  assert.equal(azureProvider.upstreamModel(parse({ deployment: 'gpt4o-prod', model: 'gpt-4o', api_key: 'k' })), 'gpt-4o');
});

test('validation says what is missing or contradictory', () => {
  assert.deepEqual(problems({ api_key: 'k' }), ['deployment: deployment is required (the Azure deployment name), or set api_version: v1 and model for the v1 API']);
  assert.deepEqual(problems({ api_version: 'v1', api_key: 'k' }), ['model: model is required with api_version v1: the name of the Azure deployment to call']);
  assert.match(problems({ api_version: 'v1', model: 'm', deployment: 'd', api_key: 'k' })[0]!, /^deployment: with api_version v1 the deployment name goes into model/);
  assert.deepEqual(problems({ deployment: 'd' }), ['api_key: set api_key, or entra with tenant_id, client_id and client_secret']);
  assert.deepEqual(problems({ deployment: 'd', api_key: 'k', entra: ENTRA }), ['entra: set either api_key or entra, not both']);
  assert.match(problems({ deployment: 'd', entra: { tenant_id: 't', client_id: 'c' } })[0]!, /^entra\.client_secret: /);
  assert.match(problems({ deployment: 'd', api_key: 'k', api_version: 'latest' })[0]!, /^api_version: use v1 or a dated version/);
  assert.match(problems({ deployment: 'a/b', api_key: 'k' })[0]!, /^deployment: an Azure deployment name/);
});

test('the endpoint must be https (http only on loopback) and without /openai', () => {
  assert.match(problems({ endpoint: 'http://my-resource.openai.azure.com', deployment: 'd', api_key: 'k' })[0]!, /endpoint must be an https:\/\/ URL/);
  assert.match(problems({ endpoint: `${ENDPOINT}/openai/deployments/d`, deployment: 'd', api_key: 'k' })[0]!, /without \/openai/);
  assert.match(problems({ endpoint: `${ENDPOINT}?x=1`, deployment: 'd', api_key: 'k' })[0]!, /query or fragment/);
  assert.equal(parse({ endpoint: 'http://127.0.0.1:8080', deployment: 'd', api_key: 'k' }).endpoint, 'http://127.0.0.1:8080');
  assert.match(problems({ deployment: 'd', entra: { ...ENTRA, authority_host: 'http://login.example' } })[0]!, /authority_host must be an https/);
});

test('Entra settings default to the public cloud and the Cognitive Services scope', () => {
  const entra = parse({ deployment: 'd', entra: ENTRA }).entra!;
  assert.equal(entra.authority_host, ENTRA_AUTHORITY_HOST);
  assert.equal(entra.scope, ENTRA_SCOPE);
  assert.equal(entra.refresh_before_s, 300);
});

test('an empty api_key (an unset variable with a default) makes the deployment unusable', () => {
  assert.match(azureProvider.unusableReason(parse({ deployment: 'd', api_key: '' }))!, /api_key is empty/);
  assert.equal(azureProvider.unusableReason(parse({ deployment: 'd', api_key: 'k' })), null);
  assert.equal(azureProvider.unusableReason(parse({ deployment: 'd', entra: ENTRA })), null);
});

test('routes: the deployment form carries the deployment and api-version, the v1 form neither', () => {
  const dated = azureRoute(parse({ endpoint: `${ENDPOINT}/`, deployment: 'gpt-4o.prod', api_version: '2025-04-01-preview', api_key: 'k' }));
  assert.equal(dated.baseUrl, `${ENDPOINT}/openai/deployments/gpt-4o.prod`);
  assert.equal(dated.path('/chat/completions'), '/chat/completions?api-version=2025-04-01-preview');
  assert.equal(dated.path('/embeddings'), '/embeddings?api-version=2025-04-01-preview');
  assert.equal(dated.bodyModel, 'gpt-4o.prod');
  const v1 = azureRoute(parse({ api_version: 'v1', model: 'gpt-4o-deployment', api_key: 'k' }));
  assert.equal(v1.baseUrl, `${ENDPOINT}/openai/v1`);
  assert.equal(v1.path('/chat/completions'), '/chat/completions');
  assert.equal(v1.bodyModel, 'gpt-4o-deployment');
  const apim = azureRoute(parse({ endpoint: 'https://apim.example.net/team-a', deployment: 'd', api_key: 'k' }));
  assert.equal(apim.baseUrl, 'https://apim.example.net/team-a/openai/deployments/d');
});

test('an api key is sent as the api-key header and is a secret', async () => {
  const timeouts = parse({ deployment: 'd', api_key: 'k' }).timeouts;
  const auth = azureAuth(parse({ deployment: 'd', api_key: 'key-123' }), timeouts);
  const call = { signal: new AbortController().signal, requestId: 'r', forwardHeaders: {} };
  assert.deepEqual(await auth.headers(call), { 'api-key': 'key-123' });
  assert.deepEqual(auth.secrets, ['key-123']);
  const entra = azureAuth(parse({ deployment: 'd', entra: ENTRA }), timeouts);
  assert.deepEqual(entra.secrets, ['s3cret']);
  await entra.close();
});

test('docs/providers/azure.md lists every field with the handling fields.ts gives it', () => {
  const docs = readFileSync(new URL('../../../docs/providers/azure.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of docs.matchAll(/^\| `([a-z_]+)` \| (pass|mapped|ignored|rejected) \|/gm)) rows.set(match[1]!, match[2]!);
  assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries(AZURE_CHAT_FIELDS).sort()));
});
