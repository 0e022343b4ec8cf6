import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import { cohereBody, cohereVectors, embeddingDialect, embeddingList, embeddingTexts, titanBody, titanVector } from './embeddings.js';

test('the dialect comes from the config, else from the model id (ids, profiles and ARNs)', () => {
  assert.equal(embeddingDialect('amazon.titan-embed-text-v2:0', undefined), 'titan');
  assert.equal(embeddingDialect('arn:aws:bedrock:eu-central-1::foundation-model/amazon.titan-embed-text-v1', undefined), 'titan');
  assert.equal(embeddingDialect('cohere.embed-multilingual-v3', undefined), 'cohere');
  assert.equal(embeddingDialect('us.cohere.embed-v4:0', undefined), 'cohere');
  assert.equal(embeddingDialect('anthropic.claude-3-haiku-20240307-v1:0', undefined), null);
  assert.equal(embeddingDialect('arn:aws:bedrock:eu-central-1:1:provisioned-model/abc', 'cohere'), 'cohere');
});

test('Titan bodies: V2 with dimensions and normalize; G1 text only, refusing dimensions', () => {
  assert.deepEqual(titanBody('amazon.titan-embed-text-v2:0', 'Köln', 256), { inputText: 'Köln', dimensions: 256, normalize: true });
  assert.deepEqual(titanBody('amazon.titan-embed-text-v2:0', 'Köln', undefined), { inputText: 'Köln', normalize: true });
  assert.deepEqual(titanBody('amazon.titan-embed-text-v1', 'Köln', undefined), { inputText: 'Köln' });
  assert.throws(() => titanBody('amazon.titan-embed-text-v1', 'x', 256), (error: unknown) => error instanceof GatewayError && error.param === 'dimensions');
});

test('Cohere bodies: texts and input_type, output_dimension only when asked', () => {
  assert.deepEqual(cohereBody(['a', 'b'], 'search_document', undefined), { texts: ['a', 'b'], input_type: 'search_document' });
  assert.deepEqual(cohereBody(['a'], 'search_query', 512), { texts: ['a'], input_type: 'search_query', output_dimension: 512 });
});

test('inputs: strings pass; token arrays are refused, naming the input', () => {
  assert.deepEqual(embeddingTexts('one'), ['one']);
  assert.deepEqual(embeddingTexts(['one', 'two']), ['one', 'two']);
  assert.throws(() => embeddingTexts([1, 2, 3]), (error: unknown) => error instanceof GatewayError && error.param === 'input');
  assert.throws(() => embeddingTexts([[1, 2]]), (error: unknown) => error instanceof GatewayError && error.param === 'input[0]');
});

test('answers: Titan vector and token count, Cohere lists by position or by type; malformed ones are bad responses', () => {
  assert.deepEqual(titanVector({ embedding: [0.5, -1], inputTextTokenCount: 3 }), { vector: [0.5, -1], tokens: 3 });
  assert.deepEqual(cohereVectors({ embeddings: [[1], [2]] }, 2), [[1], [2]]);
  assert.deepEqual(cohereVectors({ embeddings: { float: [[1]] } }, 1), [[1]]);
  const bad = (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response';
  assert.throws(() => titanVector({ embeddingsByType: {} }), bad);
  assert.throws(() => cohereVectors({ embeddings: [[1]] }, 2), bad);
  assert.throws(() => cohereVectors({ embeddings: { int8: [[1]] } }, 1), bad);
});

test('the OpenAI list shape, floats or base64 float32 little-endian', () => {
  const floats = embeddingList([[0.5, -2], [1.25, 0]], 9, 'titan', undefined);
  assert.deepEqual(floats, {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.5, -2] },
      { object: 'embedding', index: 1, embedding: [1.25, 0] },
    ],
    model: 'titan',
    usage: { prompt_tokens: 9, total_tokens: 9 },
  });
  const encoded = embeddingList([[0.5, -2]], 1, 'titan', 'base64').data[0]!.embedding as string;
  const bytes = Buffer.from(encoded, 'base64');
  assert.deepEqual([bytes.readFloatLE(0), bytes.readFloatLE(4)], [0.5, -2]);
});
