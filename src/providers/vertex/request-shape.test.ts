import assert from 'node:assert/strict';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GoogleGenAI } from '@google/genai';
import { fixedTokenAuth, startCaptureServer, type CaptureServer } from '../../../test/emulators/gemini-capture.js';
import { timeoutsSchema } from '../../config/deployment-base.js';
import type { ChatRequest } from '../../core/types.js';
import type { ProviderAdapter, UpstreamCall } from '../types.js';
import { CLOUD_PLATFORM_SCOPE } from './auth.js';
import { vertexDeploymentSchema } from './config.js';
import { vertexProvider } from './index.js';

/**
 * Vertex AI requests as the official @google/genai SDK (vertexai mode) sends them, compared with
 * Stellwerk's: the regional model path, the bearer token, the body. For Claude on Vertex, which
 * that SDK does not speak, the documented shape: Anthropic's Messages body with
 * `anthropic_version: "vertex-2023-10-16"`, without `model`, at `:rawPredict` / `:streamRawPredict`.
 */

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const EMAIL = 'shape@emu-project.iam.gserviceaccount.com';
let capture: CaptureServer;
const call: UpstreamCall = { signal: new AbortController().signal, requestId: 'req-shape', forwardHeaders: {} };
const adapters: ProviderAdapter[] = [];

before(async () => {
  capture = await startCaptureServer();
});
after(async () => {
  for (const adapter of adapters) await adapter.close();
  await capture.close();
});

function vertexAdapter(publisher: 'google' | 'anthropic', model: string): ProviderAdapter {
  const config = vertexDeploymentSchema.parse({
    provider: 'vertex',
    location: 'europe-west4',
    publisher,
    model,
    base_url: capture.url,
    credentials_json: {
      type: 'service_account',
      project_id: 'emu-project',
      private_key_id: 'key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: EMAIL,
      token_uri: `${capture.url}/token`,
    },
  });
  assert.equal(vertexProvider.unusableReason(config), null);
  const adapter = vertexProvider.create(config, { deploymentName: 'shape', timeouts: timeoutsSchema.parse({}) });
  adapters.push(adapter);
  return adapter;
}

const CHAT: ChatRequest = {
  model: 'alias',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Wetter in Köln?' },
  ],
  max_completion_tokens: 64,
  temperature: 0.2,
};

describe('vertex: the adapter sends what @google/genai (vertexai) sends', () => {
  test('generateContent and stream: path, bearer token, body; the token came from a signed JWT', async () => {
    const auth = fixedTokenAuth('ya29.captured-token');
    const sdk = new GoogleGenAI({ vertexai: true, project: 'emu-project', location: 'europe-west4', apiVersion: 'v1', googleAuthOptions: auth, httpOptions: { baseUrl: capture.url } });
    const params = {
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'Wetter in Köln?' }] }],
      config: { systemInstruction: { parts: [{ text: 'Be brief.' }] }, maxOutputTokens: 64, temperature: 0.2 },
    };
    const adapter = vertexAdapter('google', 'gemini-2.5-flash');
    await sdk.models.generateContent(params);
    await adapter.chat(CHAT, call);
    const token = capture.captured.at(-2)!;
    const [sdkRequest, ours] = [capture.captured.at(-3)!, capture.captured.at(-1)!];
    assert.equal(ours.path, '/v1/projects/emu-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent');
    assert.equal(ours.path, sdkRequest.path);
    assert.equal(ours.headers.authorization, sdkRequest.headers.authorization);
    assert.equal(ours.headers['x-goog-api-key'], undefined);
    assert.deepEqual(ours.body, sdkRequest.body);

    assert.equal(token.path, '/token');
    assert.equal(token.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(token.body as string);
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, claims, signature] = form.get('assertion')!.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header!, 'base64url').toString()), { alg: 'RS256', typ: 'JWT', kid: 'key-1' });
    const decoded = JSON.parse(Buffer.from(claims!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(decoded.iss, EMAIL);
    assert.equal(decoded.scope, CLOUD_PLATFORM_SCOPE);
    assert.equal(decoded.aud, `${capture.url}/token`);
    assert.equal((decoded.exp as number) - (decoded.iat as number), 3600);
    assert.ok(createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(publicKey, Buffer.from(signature!, 'base64url')));

    for await (const _ of await sdk.models.generateContentStream(params)) {
      // drained
    }
    for await (const _ of await adapter.chatStream({ ...CHAT, stream: true }, call)) {
      // drained
    }
    const [sdkStream, ourStream] = capture.captured.slice(-2);
    assert.equal(ourStream!.path, sdkStream!.path);
    assert.deepEqual(ourStream!.query, { alt: 'sse' });
    assert.deepEqual(ourStream!.query, sdkStream!.query);
    assert.deepEqual(ourStream!.body, sdkStream!.body);
    assert.equal(capture.captured.filter((request) => request.path === '/token').length, 1, 'the token is cached');
  });

  test('embeddings: :predict with one instance per input, as the SDK does for embedding models', async () => {
    const auth = fixedTokenAuth('ya29.captured-token');
    const sdk = new GoogleGenAI({ vertexai: true, project: 'emu-project', location: 'europe-west4', apiVersion: 'v1', googleAuthOptions: auth, httpOptions: { baseUrl: capture.url } });
    await sdk.models.embedContent({ model: 'text-embedding-005', contents: ['a', 'b'], config: { outputDimensionality: 4 } });
    const adapter = vertexAdapter('google', 'text-embedding-005');
    await adapter.embeddings!({ model: 'alias', input: ['a', 'b'], dimensions: 4 }, call);
    const [sdkRequest, ours] = [capture.captured.filter((request) => request.path !== '/token').at(-2)!, capture.captured.at(-1)!];
    assert.equal(ours.path, '/v1/projects/emu-project/locations/europe-west4/publishers/google/models/text-embedding-005:predict');
    assert.equal(ours.path, sdkRequest.path);
    assert.deepEqual(ours.body, sdkRequest.body);
  });

  test('Claude on Vertex: the Messages body with vertex-2023-10-16 and no model, at :rawPredict and :streamRawPredict', async () => {
    const adapter = vertexAdapter('anthropic', 'claude-sonnet-4-5@20250929');
    await adapter.chat(CHAT, call).catch(() => undefined);
    const whole = capture.captured.at(-1)!;
    assert.equal(whole.path, '/v1/projects/emu-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict');
    assert.match(String(whole.headers.authorization), /^Bearer ya29\./);
    assert.deepEqual(whole.body, {
      anthropic_version: 'vertex-2023-10-16',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Wetter in Köln?' }],
      temperature: 0.2,
    });
    await adapter.chatStream({ ...CHAT, stream: true }, call).catch(() => undefined);
    const streamed = capture.captured.at(-1)!;
    assert.ok(streamed.path.endsWith(':streamRawPredict'));
    assert.equal((streamed.body as Record<string, unknown>).stream, true);
    assert.equal((streamed.body as Record<string, unknown>).model, undefined);
  });
});
