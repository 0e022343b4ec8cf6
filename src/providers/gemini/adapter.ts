import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import type { GeminiApi } from './api.js';
import { fromGenerateContentResponse, toGenerateContentRequest, type AnswerContext } from './chat.js';
import { embeddingTexts, toEmbedRequest, toEmbeddingsResponse, vectorsOf, type BatchEmbedContentsResponse, type EmbedContentResponse } from './embeddings.js';
import { geminiChatStream, isFinalGeminiEvent } from './stream.js';
import type { GenerateContentResponse } from './wire.js';

/** Where and how one Google model is called: the part that differs between the Gemini API and Vertex AI. */
export interface GoogleModelApi {
  /** The model id, as reported in answers that name none. */
  readonly model: string;
  /** Path (below the client's base URL) of `:generateContent`. */
  readonly generatePath: string;
  /** Path of `:streamGenerateContent?alt=sse`. */
  readonly streamPath: string;
  /** Auth and content headers for one call (Vertex fetches an access token here). */
  headers(call: UpstreamCall): Promise<Record<string, string>>;
}

/**
 * Chat with a Google model through GenerateContent, whole or streamed. The Gemini API and Vertex
 * AI (publisher google) differ only in their GoogleModelApi, and each adds its own embeddings.
 */
export class GoogleChatAdapter implements ProviderAdapter {
  constructor(
    protected readonly api: GoogleModelApi,
    protected readonly client: UpstreamClient,
  ) {}

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const body = JSON.stringify(toGenerateContentRequest(request, this.api.model));
    const headers = await this.api.headers(call);
    const parsed = await this.client.requestJson<GenerateContentResponse>({ method: 'POST', path: this.api.generatePath, headers, body }, call);
    return { value: fromGenerateContentResponse(parsed.value, this.answerContext(call)), raw: null };
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const body = JSON.stringify(toGenerateContentRequest(request, this.api.model));
    const headers = { ...(await this.api.headers(call)), accept: 'text/event-stream' };
    const events = await this.client.streamEvents<GenerateContentResponse>({ method: 'POST', path: this.api.streamPath, headers, body }, call, { isFinal: isFinalGeminiEvent });
    return geminiChatStream(events, this.answerContext(call));
  }

  close(): Promise<void> {
    return this.client.close();
  }

  protected answerContext(call: UpstreamCall): AnswerContext {
    return { model: this.api.model, requestId: call.requestId, newToolCallId };
  }
}

/** The Gemini API: chat, and embeddings through `:embedContent` / `:batchEmbedContents`. */
export class GeminiAdapter extends GoogleChatAdapter {
  constructor(
    private readonly gemini: GeminiApi,
    client: UpstreamClient,
  ) {
    super(gemini, client);
  }

  async embeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const plan = toEmbedRequest(request, this.gemini.modelName);
    const path = plan.batch ? this.gemini.batchEmbedPath : this.gemini.embedPath;
    const headers = await this.gemini.headers(call);
    const parsed = await this.client.requestJson<EmbedContentResponse | BatchEmbedContentsResponse>({ method: 'POST', path, headers, body: JSON.stringify(plan.body) }, call);
    const vectors = vectorsOf(parsed.value);
    if (vectors.length !== embeddingTexts(request.input).length) {
      throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a different number of embeddings than inputs.' });
    }
    // The Gemini API reports no token counts for embeddings.
    return { value: toEmbeddingsResponse(vectors, request, this.gemini.model, 0), raw: null };
  }
}

/** Google's function calls come without ids; OpenAI clients need one to answer the call. */
export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
