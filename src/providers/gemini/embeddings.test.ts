import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { geminiApiKey, geminiModelName } from './api.js';
import { geminiDeploymentSchema } from './config.js';
import { toEmbeddingsResponse, toEmbedRequest, vectorsOf } from './embeddings.js';
import { geminiProvider } from './index.js';

describe('gemini embeddings', () => {
  test('one text is an embedContent, several a batch naming the model in each request', () => {
    assert.deepEqual(toEmbedRequest({ model: 'a', input: 'x', dimensions: 3 }, 'models/e'), {
      batch: false,
      body: { content: { role: 'user', parts: [{ text: 'x' }] }, outputDimensionality: 3 },
    });
    assert.deepEqual(toEmbedRequest({ model: 'a', input: ['x', 'y'] }, 'models/e'), {
      batch: true,
      body: { requests: ['x', 'y'].map((text) => ({ model: 'models/e', content: { role: 'user', parts: [{ text }] } })) },
    });
  });

  test('token ids cannot be embedded by Google and are refused', () => {
    for (const input of [[1, 2, 3], [[1, 2]], []] as never[]) {
      assert.throws(() => toEmbedRequest({ model: 'a', input }, 'models/e'), (error: unknown) => error instanceof GatewayError && error.param === 'input');
    }
  });

  test('vectors come back as floats or as base64 of little-endian float32', () => {
    const vectors = vectorsOf({ embeddings: [{ values: [0.5, -1.25] }, { values: [2] }] });
    assert.deepEqual(vectorsOf({ embedding: { values: [1] } }), [[1]]);
    const floats = toEmbeddingsResponse(vectors, { model: 'a', input: ['x', 'y'] }, 'gemini-embedding-001', 0);
    assert.deepEqual(floats, {
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1.25] },
        { object: 'embedding', index: 1, embedding: [2] },
      ],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    const encoded = toEmbeddingsResponse(vectors, { model: 'a', input: ['x', 'y'], encoding_format: 'base64' }, 'm', 0);
    const bytes = Buffer.from(encoded.data[0]!.embedding as string, 'base64');
    assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)), [0.5, -1.25]);
    assert.throws(() => vectorsOf({ embeddings: [{}] }), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
  });
});

describe('gemini deployments', () => {
  const parse = (fields: Record<string, unknown>) => geminiDeploymentSchema.safeParse({ provider: 'gemini', ...fields });

  test('the model id goes into a URL path, so only model ids are accepted', () => {
    assert.equal(parse({ model: 'gemini-2.5-flash' }).success, true);
    assert.equal(parse({ model: 'tunedModels/my-model-7' }).success, true);
    for (const model of ['', 'gemini?alt=x', '../secrets', 'models/a/b', 'a b']) assert.equal(parse({ model }).success, false, model);
    assert.equal(geminiModelName('gemini-2.5-flash'), 'models/gemini-2.5-flash');
    assert.equal(geminiModelName('tunedModels/x'), 'tunedModels/x');
  });

  test('the key: api_key, else GEMINI_API_KEY, else GOOGLE_API_KEY; without one the deployment is unusable', () => {
    const config = geminiDeploymentSchema.parse({ provider: 'gemini', model: 'gemini-2.5-flash' });
    assert.equal(geminiApiKey(config, {}), '');
    assert.equal(geminiApiKey(config, { GOOGLE_API_KEY: 'g' }), 'g');
    assert.equal(geminiApiKey(config, { GOOGLE_API_KEY: 'g', GEMINI_API_KEY: 'm' }), 'm');
    assert.equal(geminiApiKey({ ...config, api_key: 'own' }, { GEMINI_API_KEY: 'm' }), 'own');
    const saved = { gemini: process.env.GEMINI_API_KEY, google: process.env.GOOGLE_API_KEY };
    delete process.env.GEMINI_API_KEY;
    delete process.env.GOOGLE_API_KEY;
    try {
      assert.equal(geminiProvider.unusableReason(config), 'no API key: set api_key, GEMINI_API_KEY or GOOGLE_API_KEY');
      assert.equal(geminiProvider.unusableReason({ ...config, api_key: 'k' }), null);
    } finally {
      if (saved.gemini !== undefined) process.env.GEMINI_API_KEY = saved.gemini;
      if (saved.google !== undefined) process.env.GOOGLE_API_KEY = saved.google;
    }
  });
});
