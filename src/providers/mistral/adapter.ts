import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import { CHAT_PATH, EMBEDDINGS_PATH, mistralHeaders } from './api.js';
import { isMistralChatResponse, toChatResponse, toMistralChat } from './chat.js';
import { toEmbeddingsResponse, toMistralEmbeddings } from './embeddings.js';
import { mistralStatusError } from './errors.js';
import { chatChunks } from './stream.js';
import type { MistralEmbeddingsResponse } from './wire.js';
import { mergeRecords } from '../../core/merge.js';

export interface MistralSettings {
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string;
  readonly safePrompt: boolean | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly timeouts: Timeouts;
}

/** Mistral's chat and embeddings APIs behind OpenAI's: requests and answers are translated. */
export class MistralAdapter implements ProviderAdapter {
  private readonly client: UpstreamClient;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(private readonly settings: MistralSettings) {
    this.client = new UpstreamClient({
      baseUrl: settings.baseUrl,
      timeouts: settings.timeouts,
      connections: settings.connections,
      secrets: [settings.apiKey],
      statusError: mistralStatusError,
    });
    this.headers = mistralHeaders(settings.apiKey, settings.headers);
  }

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const body = { ...toMistralChat(request, this.settings), stream: false };
    const { value } = await this.client.requestJson<unknown>({ method: 'POST', path: CHAT_PATH, headers: this.headersFor(call), body: JSON.stringify(body) }, call);
    if (!isMistralChatResponse(value)) {
      throw new GatewayError('upstream_bad_response', { message: 'The upstream answered with JSON that is not a Mistral chat completion.' });
    }
    return { value: toChatResponse(value, nowSeconds()), raw: null };
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const body = { ...toMistralChat(request, this.settings), stream: true };
    const headers = this.headersFor(call);
    headers.accept = 'text/event-stream';
    const events = await this.client.streamEvents<unknown>({ method: 'POST', path: CHAT_PATH, headers, body: JSON.stringify(body) }, call, { isFinal: hasFinish });
    return chatChunks(events, nowSeconds(), this.client.secrets);
  }

  async embeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const body = toMistralEmbeddings(request, this.settings.model);
    const { value } = await this.client.requestJson<MistralEmbeddingsResponse>({ method: 'POST', path: EMBEDDINGS_PATH, headers: this.headersFor(call), body: JSON.stringify(body) }, call);
    return { value: toEmbeddingsResponse(value, request.encoding_format), raw: null };
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private headersFor(call: UpstreamCall): Record<string, string> {
    return mergeRecords(this.headers, call.forwardHeaders, { 'x-request-id': call.requestId });
  }
}

/** Mistral's last chunk carries a finish_reason (and usage); a stream that ends after it is complete. */
function hasFinish(value: unknown): boolean {
  const choices = (value as { choices?: { finish_reason?: unknown }[] } | null)?.choices;
  return Array.isArray(choices) && choices.some((choice) => choice?.finish_reason != null);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
