import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import { float32Base64, toEmbeddingsResponse, toMistralEmbeddings } from './embeddings.js';

test('the request: text input, dimensions as output_dimension, user dropped, float always', () => {
  assert.deepEqual(toMistralEmbeddings({ model: 'alias', input: ['a', 'b'], dimensions: 256, user: 'u', encoding_format: 'base64' }, 'codestral-embed'), {
    model: 'codestral-embed',
    input: ['a', 'b'],
    output_dimension: 256,
  });
  assert.deepEqual(toMistralEmbeddings({ model: 'alias', input: 'a', output_dtype: 'int8' }, 'mistral-embed'), { model: 'mistral-embed', input: 'a', output_dtype: 'int8' });
  for (const input of [[1, 2, 3], [[1, 2]]] as const) {
    assert.throws(
      () => toMistralEmbeddings({ model: 'alias', input: input as never }, 'mistral-embed'),
      (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'input',
    );
  }
});

test('the answer: floats as they came, or base64 of little-endian float32 that decodes to the same values', () => {
  const vector = [0.25, -1.5, 3.0625, 0];
  const body = { id: 'e', object: 'list', model: 'mistral-embed', data: [{ object: 'embedding', index: 0, embedding: vector }], usage: { prompt_tokens: 3, total_tokens: 3, completion_tokens: 0 } };
  assert.deepEqual(toEmbeddingsResponse(body, 'float'), { object: 'list', data: [{ object: 'embedding', index: 0, embedding: vector }], model: 'mistral-embed', usage: { prompt_tokens: 3, total_tokens: 3 } });
  const encoded = toEmbeddingsResponse(body, 'base64').data[0]!.embedding as string;
  const bytes = Buffer.from(encoded, 'base64');
  assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)), vector);
  assert.equal(float32Base64([1]), Buffer.from([0, 0, 0x80, 0x3f]).toString('base64'));
});
