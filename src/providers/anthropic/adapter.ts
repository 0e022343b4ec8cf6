import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/types.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import { anthropicHeaders, MESSAGES_PATH } from './api.js';
import { isMessage, toChatResponse, toMessagesRequest } from './chat.js';
import { anthropicEvents, chatChunks } from './stream.js';
import type { Message } from './wire.js';

export interface AnthropicSettings {
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string;
  readonly betas: readonly string[];
  /** `max_tokens` when the client sets none. */
  readonly maxTokens: number;
  readonly connections: number;
  readonly timeouts: Timeouts;
}

/** Anthropic's Messages API behind OpenAI's Chat Completions: every request and answer is translated. */
export class AnthropicAdapter implements ProviderAdapter {
  private readonly client: UpstreamClient;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(private readonly settings: AnthropicSettings) {
    this.client = new UpstreamClient({
      baseUrl: settings.baseUrl,
      timeouts: settings.timeouts,
      connections: settings.connections,
      secrets: [settings.apiKey],
    });
    this.headers = anthropicHeaders({ apiKey: settings.apiKey, betas: settings.betas });
  }

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const body = toMessagesRequest(request, this.settings);
    const { value } = await this.client.requestJson<Message>({ method: 'POST', path: MESSAGES_PATH, headers: this.headersFor(call), body: JSON.stringify(body) }, call);
    if (!isMessage(value)) {
      throw new GatewayError('upstream_bad_response', { message: 'The upstream answered with JSON that is not an Anthropic message.' });
    }
    return { value: toChatResponse(value, nowSeconds()), raw: null };
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const body = { ...toMessagesRequest(request, this.settings), stream: true };
    const headers = this.headersFor(call);
    headers.accept = 'text/event-stream';
    const response = await this.client.send({ method: 'POST', path: MESSAGES_PATH, headers, body: JSON.stringify(body) }, call);
    const events = anthropicEvents(response.body, {
      failure: (error) => this.client.failure(error, call),
      secrets: this.client.secrets,
    });
    return chatChunks(events, nowSeconds());
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The client's trace headers travel along; the deployment's auth and version always win. */
  private headersFor(call: UpstreamCall): Record<string, string> {
    return { ...call.forwardHeaders, ...this.headers };
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
