import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bedrockDeploymentSchema, type BedrockDeployment } from './config.js';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { BedrockApi, encodeModelId, endpointUrl, missingSettings, resolveCredentials, resolveRegion } from './api.js';

function deployment(fields: Record<string, unknown> = {}): BedrockDeployment {
  return bedrockDeploymentSchema.parse({ provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0', ...fields });
}

test('model ids are one path segment, encoded as the AWS SDKs encode them', () => {
  assert.equal(encodeModelId('anthropic.claude-3-haiku-20240307-v1:0'), 'anthropic.claude-3-haiku-20240307-v1%3A0');
  assert.equal(
    encodeModelId('arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc'),
    'arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aprovisioned-model%2Fabc',
  );
  assert.equal(encodeModelId("a!b'c(d)e*f g"), 'a%21b%27c%28d%29e%2Af%20g');
});

test('credentials: the deployment keys first, else the AWS environment variables', () => {
  const env = { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' };
  assert.deepEqual(resolveCredentials(deployment({ access_key_id: 'AKIACFG', secret_access_key: 'cfg-secret' }), env), {
    accessKeyId: 'AKIACFG',
    secretAccessKey: 'cfg-secret',
  });
  assert.deepEqual(resolveCredentials(deployment(), env), { accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' });
  assert.deepEqual(resolveCredentials(deployment(), { ...env, AWS_SESSION_TOKEN: '' }), { accessKeyId: 'AKIAENV', secretAccessKey: 'env-secret' });
  assert.equal(resolveCredentials(deployment(), { AWS_ACCESS_KEY_ID: 'AKIAENV' }), null);
  // `${VAR:-}` left empty in a config means "not set", so the environment is used.
  assert.equal(resolveCredentials(deployment({ access_key_id: '', secret_access_key: '' }), env)?.accessKeyId, 'AKIAENV');
});

test('region: the deployment, else AWS_REGION, else AWS_DEFAULT_REGION; the endpoint follows it unless set', () => {
  assert.equal(resolveRegion(deployment({ region: 'eu-central-1' }), { AWS_REGION: 'us-east-1' }), 'eu-central-1');
  assert.equal(resolveRegion(deployment(), { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' }), 'us-east-1');
  assert.equal(resolveRegion(deployment(), { AWS_DEFAULT_REGION: 'us-west-2' }), 'us-west-2');
  assert.equal(resolveRegion(deployment(), {}), null);
  assert.equal(endpointUrl(deployment(), 'eu-central-1'), 'https://bedrock-runtime.eu-central-1.amazonaws.com');
  assert.equal(endpointUrl(deployment({ endpoint: 'https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com' }), 'eu-central-1'), 'https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com');
});

test('a deployment without credentials or region is unusable, and says what to set', () => {
  const reason = missingSettings(deployment(), {});
  assert.match(reason!, /no AWS credentials: set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  assert.match(reason!, /no AWS region/);
  assert.equal(missingSettings(deployment({ region: 'eu-central-1', access_key_id: 'A', secret_access_key: 'B' }), {}), null);
});

test('the config refuses half-given credentials and regions that are not AWS regions', () => {
  const issues = (fields: Record<string, unknown>) =>
    bedrockDeploymentSchema.safeParse({ provider: 'bedrock', model: 'm', ...fields }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
  assert.deepEqual(issues({ access_key_id: 'A' }), ['secret_access_key: access_key_id is set, so secret_access_key is needed too']);
  assert.deepEqual(issues({ secret_access_key: 'B' }), ['access_key_id: secret_access_key is set, so access_key_id is needed too']);
  assert.deepEqual(issues({ session_token: 'T' }), ['session_token: a session_token needs access_key_id and secret_access_key']);
  assert.match(issues({ region: 'Frankfurt' })[0]!, /^region: must be an AWS region/);
  assert.deepEqual(issues({ region: 'us-gov-west-1' }), []);
  assert.match(issues({ embeddings: 'openai' })[0]!, /^embeddings:/);
});

test('signed headers cover the endpoint path prefix, the host with its port and the session token, at the given time', async () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token-1' };
  const api = new BedrockApi('http://bedrock.internal:8443/proxy/', 'eu-west-3', credentials);
  const date = new Date('2025-03-01T12:34:56Z');
  const body = '{"messages":[]}';
  const headers = await api.signedHeaders('/model/m%3A1/converse', body, null, date);
  assert.equal(headers.host, 'bedrock.internal:8443');
  assert.equal(headers['x-amz-date'], '20250301T123456Z');
  assert.equal(headers['x-amz-security-token'], 'token-1');
  const reference = new SignatureV4({ service: 'bedrock', region: 'eu-west-3', credentials, sha256: Hash.bind(null, 'sha256') });
  const expected = await reference.sign(
    { method: 'POST', protocol: 'http:', hostname: 'bedrock.internal', port: 8443, path: '/proxy/model/m%3A1/converse', query: {}, headers: { host: 'bedrock.internal:8443', 'content-type': 'application/json' }, body },
    { signingDate: date },
  );
  assert.equal(headers.authorization, expected.headers.authorization);
  assert.match(headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250301\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  assert.equal(api.secrets.join(','), 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,token-1');
});
