import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';

/**
 * Embeddings through InvokeModel, whose body is the model's own format:
 * - Titan Text Embeddings: one text per call, `{inputText, dimensions, normalize}` →
 *   `{embedding, inputTextTokenCount}`;
 * - Cohere Embed: up to 96 texts per call, `{texts, input_type}` → `{embeddings}` (a list of
 *   vectors, or `{float: [...]}` when the model answers by type).
 */

export type EmbeddingDialect = 'titan' | 'cohere';

/** Cohere Embed takes at most this many texts in one call. */
export const COHERE_BATCH = 96;

/** The dialect the deployment names, else the one its model id implies; null when it cannot embed. */
export function embeddingDialect(modelId: string, configured: EmbeddingDialect | undefined): EmbeddingDialect | null {
  if (configured !== undefined) return configured;
  if (/titan-embed/i.test(modelId)) return 'titan';
  if (/cohere\.embed/i.test(modelId)) return 'cohere';
  return null;
}

/** The inputs as strings; token arrays cannot be sent, since Bedrock tokenizes itself. */
export function embeddingTexts(input: EmbeddingsRequest['input']): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  return texts.map((item, index) => {
    if (typeof item === 'string') return item;
    throw new GatewayError('invalid_request', {
      message: 'Bedrock embeds text only: "input" must be a string or an array of strings, not tokens.',
      param: Array.isArray(input) && typeof input[0] === 'number' ? 'input' : `input[${index}]`,
    });
  });
}

/** Titan G1 takes `inputText` alone; V2 adds dimensions and normalize (true, as OpenAI's vectors are). */
export function titanBody(modelId: string, text: string, dimensions: number | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { inputText: text };
  if (/titan-embed-text-v1|titan-embed-g1/i.test(modelId)) {
    if (dimensions !== undefined) {
      throw new GatewayError('invalid_request', { message: 'This Titan embeddings model has a fixed size; "dimensions" needs Titan V2.', param: 'dimensions' });
    }
    return body;
  }
  if (dimensions !== undefined) body.dimensions = dimensions;
  body.normalize = true;
  return body;
}

export function cohereBody(texts: string[], inputType: string, dimensions: number | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { texts, input_type: inputType };
  // Only Embed v4 can shorten its vectors; v3 refuses the field, and says so.
  if (dimensions !== undefined) body.output_dimension = dimensions;
  return body;
}

export function titanVector(value: unknown): { vector: number[]; tokens: number } {
  const body = value as { embedding?: unknown; inputTextTokenCount?: unknown } | null;
  if (!isVector(body?.embedding)) throw badAnswer('Titan answered without an "embedding" vector.');
  return { vector: body.embedding, tokens: typeof body.inputTextTokenCount === 'number' ? body.inputTextTokenCount : 0 };
}

export function cohereVectors(value: unknown, expected: number): number[][] {
  const embeddings = (value as { embeddings?: unknown } | null)?.embeddings;
  const list = Array.isArray(embeddings) ? embeddings : (embeddings as { float?: unknown } | undefined)?.float;
  if (!Array.isArray(list) || list.length !== expected || !list.every(isVector)) {
    throw badAnswer(`Cohere answered without ${expected} float embeddings.`);
  }
  return list;
}

/** OpenAI's list shape; base64 is the float32 little-endian bytes, as OpenAI encodes them. */
export function embeddingList(vectors: number[][], tokens: number, model: string, format: EmbeddingsRequest['encoding_format']): EmbeddingsResponse {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function badAnswer(message: string): GatewayError {
  return new GatewayError('upstream_bad_response', { message });
}
