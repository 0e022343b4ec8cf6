import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import { isMessage, toChatResponse, toMessagesRequest } from '../anthropic/chat.js';
import { anthropicEvents, chatChunks } from '../anthropic/stream.js';
import type { Message, MessagesRequest } from '../anthropic/wire.js';
import { GoogleChatAdapter } from '../gemini/adapter.js';
import { toEmbeddingsResponse } from '../gemini/embeddings.js';
import type { UpstreamClient } from '../http/upstream-client.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import type { VertexAuth, VertexGoogleApi } from './api.js';
import { fromPredictResponse, toPredictRequest, type PredictResponse } from './embeddings.js';

/** Gemini on Vertex AI: chat as on the Gemini API, embeddings through `:predict`. */
export class VertexGoogleAdapter extends GoogleChatAdapter {
  constructor(
    private readonly vertex: VertexGoogleApi,
    client: UpstreamClient,
    private readonly auth: VertexAuth,
  ) {
    super(vertex, client);
  }

  async embeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const body = toPredictRequest(request);
    const headers = await this.vertex.headers(call);
    const parsed = await this.client.requestJson<PredictResponse>({ method: 'POST', path: this.vertex.predictPath, headers, body: JSON.stringify(body) }, call);
    const { vectors, tokens } = fromPredictResponse(parsed.value, body.instances.length);
    return { value: toEmbeddingsResponse(vectors, request, this.vertex.model, tokens), raw: null };
  }

  override async close(): Promise<void> {
    await Promise.all([super.close(), this.auth.tokens.close()]);
  }
}

/** The body Vertex AI takes for Claude: Anthropic's Messages request without `model` (it is in the path), with Vertex's API version. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export interface VertexAnthropicSettings {
  readonly model: string;
  /** `/v1/projects/…/publishers/anthropic/models/{model}`. */
  readonly modelPath: string;
  readonly maxTokens: number;
}

/**
 * Claude on Vertex AI: Anthropic's Messages API (the translation of providers/anthropic) posted
 * to `:rawPredict`, streamed from `:streamRawPredict`, with Vertex's auth.
 */
export class VertexAnthropicAdapter implements ProviderAdapter {
  constructor(
    private readonly settings: VertexAnthropicSettings,
    private readonly client: UpstreamClient,
    private readonly auth: VertexAuth,
  ) {}

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const body = JSON.stringify(this.vertexBody(request, false));
    const headers = await this.auth.headers(call);
    const { value } = await this.client.requestJson<Message>({ method: 'POST', path: `${this.settings.modelPath}:rawPredict`, headers, body }, call);
    if (!isMessage(value)) {
      throw new GatewayError('upstream_bad_response', { message: 'The upstream answered with JSON that is not an Anthropic message.' });
    }
    return { value: toChatResponse(value, nowSeconds()), raw: null };
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const body = JSON.stringify(this.vertexBody(request, true));
    const headers = { ...(await this.auth.headers(call)), accept: 'text/event-stream' };
    const response = await this.client.send({ method: 'POST', path: `${this.settings.modelPath}:streamRawPredict`, headers, body }, call);
    const events = anthropicEvents(response.body, { failure: (error) => this.client.failure(error, call), secrets: this.client.secrets });
    return chatChunks(events, nowSeconds());
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.auth.tokens.close()]);
  }

  private vertexBody(request: ChatRequest, stream: boolean): Omit<MessagesRequest, 'model'> & { anthropic_version: string } {
    const { model: _model, ...body } = toMessagesRequest(request, { model: this.settings.model, maxTokens: this.settings.maxTokens });
    return stream ? { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body, stream: true } : { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body };
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
