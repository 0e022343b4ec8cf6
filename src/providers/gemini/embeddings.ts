import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';

/**
 * OpenAI embeddings ↔ the Gemini API's `:embedContent` (one input) and `:batchEmbedContents`
 * (several). `dimensions` becomes `outputDimensionality`; vectors go back as floats or, when the
 * client asks (the OpenAI SDKs do by default), as base64 of little-endian float32.
 */

export interface EmbedContentRequest {
  content: { role: 'user'; parts: { text: string }[] };
  outputDimensionality?: number;
}

export interface BatchEmbedContentsRequest {
  requests: (EmbedContentRequest & { model: string })[];
}

export interface EmbedContentResponse {
  embedding?: { values?: number[] };
}

export interface BatchEmbedContentsResponse {
  embeddings?: { values?: number[] }[];
}

/** The texts to embed; Google embeds text only, so token-id inputs are refused. */
export function embeddingTexts(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string')) return input as string[];
  throw new GatewayError('invalid_request', {
    message: 'Google embedding models take text: send "input" as a string or an array of strings (token ids are not supported).',
    param: 'input',
  });
}

/** One request for one text, a batch for several; `modelName` is Google's resource name (`models/…`). */
export function toEmbedRequest(
  request: EmbeddingsRequest,
  modelName: string,
): { readonly batch: false; readonly body: EmbedContentRequest } | { readonly batch: true; readonly body: BatchEmbedContentsRequest } {
  const texts = embeddingTexts(request.input);
  const one = (text: string): EmbedContentRequest => {
    // The role is optional here; it is sent because Google's SDK sends it.
    const body: EmbedContentRequest = { content: { role: 'user', parts: [{ text }] } };
    if (request.dimensions != null) body.outputDimensionality = request.dimensions;
    return body;
  };
  if (texts.length === 1) return { batch: false, body: one(texts[0]!) };
  return { batch: true, body: { requests: texts.map((text) => ({ model: modelName, ...one(text) })) } };
}

export function vectorsOf(response: EmbedContentResponse | BatchEmbedContentsResponse): number[][] {
  const list = 'embeddings' in response ? (response.embeddings ?? []) : [(response as EmbedContentResponse).embedding ?? {}];
  return list.map((embedding) => {
    if (!Array.isArray(embedding.values)) throw new GatewayError('upstream_bad_response', { message: 'The upstream sent an embedding without values.' });
    return embedding.values;
  });
}

/** The OpenAI embeddings list for the vectors, in the format the client asked for. */
export function toEmbeddingsResponse(
  vectors: readonly number[][],
  request: EmbeddingsRequest,
  model: string,
  promptTokens: number,
): EmbeddingsResponse {
  const base64 = request.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding' as const,
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
