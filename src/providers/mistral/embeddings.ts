import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import { invalid } from './messages.js';
import type { MistralEmbeddingsRequest, MistralEmbeddingsResponse } from './wire.js';

/** OpenAI embedding fields the gateway translates or drops; any other field goes to Mistral as sent. */
const KNOWN = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

/**
 * OpenAI's embeddings request as Mistral's: text input only (Mistral has no token-array input),
 * `dimensions` → `output_dimension` (for models that can shorten, such as codestral-embed), `user`
 * dropped. Mistral is always asked for floats; a client that wants base64 (the OpenAI SDKs ask for
 * it by default) gets the floats encoded by the gateway, as OpenAI encodes them.
 */
export function toMistralEmbeddings(request: EmbeddingsRequest, model: string): MistralEmbeddingsRequest {
  const input = request.input;
  const text = typeof input === 'string' || (Array.isArray(input) && input.every((item) => typeof item === 'string'));
  if (!text) throw invalid('Mistral embeddings take text: send "input" as a string or an array of strings.', 'input');
  if (request.encoding_format !== undefined && request.encoding_format !== 'float' && request.encoding_format !== 'base64') {
    throw invalid('"encoding_format" must be "float" or "base64".', 'encoding_format');
  }
  const out: MistralEmbeddingsRequest = { model, input: input as string | string[] };
  if (typeof request.dimensions === 'number') out.output_dimension = request.dimensions;
  for (const [field, value] of Object.entries(request)) if (!KNOWN.has(field) && value !== undefined) out[field] = value;
  return out;
}

export function toEmbeddingsResponse(body: MistralEmbeddingsResponse, encoding: EmbeddingsRequest['encoding_format']): EmbeddingsResponse {
  if (!Array.isArray(body.data)) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream answered without embeddings.' });
  }
  const prompt = body.usage?.prompt_tokens ?? 0;
  return {
    object: 'list',
    data: body.data.map((item) => ({
      object: 'embedding' as const,
      index: item.index,
      embedding: encoding === 'base64' ? float32Base64(item.embedding) : item.embedding,
    })),
    model: body.model,
    usage: { prompt_tokens: prompt, total_tokens: body.usage?.total_tokens ?? prompt },
  };
}

/** Little-endian float32, as OpenAI's API and SDKs encode and decode embeddings. */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}
