import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest } from '../../core/types.js';
import { embeddingTexts } from '../gemini/embeddings.js';

/**
 * OpenAI embeddings ↔ Vertex AI's `:predict` for Google's embedding models (text-embedding-005,
 * text-multilingual-embedding-002, gemini-embedding-001): one instance per input, and Vertex
 * reports the tokens of each.
 */

export interface PredictRequest {
  instances: { content: string }[];
  parameters?: { outputDimensionality: number };
}

export interface PredictResponse {
  predictions?: { embeddings?: { values?: number[]; statistics?: { token_count?: number } } }[];
}

export function toPredictRequest(request: EmbeddingsRequest): PredictRequest {
  const body: PredictRequest = { instances: embeddingTexts(request.input).map((content) => ({ content })) };
  if (request.dimensions != null) body.parameters = { outputDimensionality: request.dimensions };
  return body;
}

export function fromPredictResponse(response: PredictResponse, expected: number): { vectors: number[][]; tokens: number } {
  const predictions = response.predictions ?? [];
  if (predictions.length !== expected) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a different number of embeddings than inputs.' });
  }
  let tokens = 0;
  const vectors = predictions.map((prediction) => {
    const values = prediction.embeddings?.values;
    if (!Array.isArray(values)) throw new GatewayError('upstream_bad_response', { message: 'The upstream sent an embedding without values.' });
    tokens += prediction.embeddings?.statistics?.token_count ?? 0;
    return values;
  });
  return { vectors, tokens };
}
