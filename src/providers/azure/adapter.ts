import type { ChatChunk, ChatRequest, ChatResponse, CompletionsRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { CompletionObject, EventStream, Parsed, ProviderAdapter, StreamEvent, UpstreamCall } from '../types.js';
import type { AzureAuth, AzureOperation, AzureRoute } from './api.js';
import { azureStatusError } from './errors.js';
import { mergeRecords, withFields } from '../../core/merge.js';

export interface AzureSettings {
  readonly route: AzureRoute;
  readonly auth: AzureAuth;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly streamUsage: boolean;
  readonly timeouts: Timeouts;
}

type Streamable = { model: string; stream?: boolean | null; stream_options?: Record<string, unknown> | null };
const JSON_CONTENT: Readonly<Record<string, string>> = { 'content-type': 'application/json' };

/**
 * Azure OpenAI speaks OpenAI's wire format, so requests go out as the client sent them (with the
 * deployment's model) and answers come back untouched — content-filter annotations
 * (`prompt_filter_results`, per-choice `content_filter_results`) and `finish_reason:
 * "content_filter"` included. What differs lives in api.ts (URL forms, api-version, auth) and
 * errors.ts. One thing in streams is repaired: Azure's first chunk, which carries only the prompt's
 * filter results, has `"object": ""`; it is sent on as a `chat.completion.chunk` like every other.
 */
export class AzureAdapter implements ProviderAdapter {
  private readonly client: UpstreamClient;

  constructor(private readonly settings: AzureSettings) {
    this.client = new UpstreamClient({
      baseUrl: settings.route.baseUrl,
      timeouts: settings.timeouts,
      connections: settings.connections,
      secrets: settings.auth.secrets,
      statusError: azureStatusError,
    });
  }

  chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    return this.postJson<ChatResponse>('/chat/completions', this.withModel(request), call);
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    return repairChunks(await this.postStream<ChatChunk>('/chat/completions', this.streaming(request), call));
  }

  embeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    return this.postJson<EmbeddingsResponse>('/embeddings', this.withModel(request), call);
  }

  completions(request: CompletionsRequest, call: UpstreamCall): Promise<Parsed<CompletionObject>> {
    return this.postJson<CompletionObject>('/completions', this.withModel(request), call);
  }

  completionsStream(request: CompletionsRequest, call: UpstreamCall): Promise<EventStream<CompletionObject>> {
    return this.postStream<CompletionObject>('/completions', this.streaming(request), call);
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.settings.auth.close()]);
  }

  private withModel<T extends { model: string }>(request: T): T {
    const model = this.settings.route.bodyModel;
    return request.model === model ? request : { ...request, model };
  }

  /** Streams, and asks for the usage chunk so that the gateway always learns what was used. */
  private streaming<T extends Streamable>(request: T): T {
    const model = this.settings.route.bodyModel;
    if (!this.settings.streamUsage) return withFields<T>(request, { model, stream: true } as Partial<T>);
    return withFields<T>(request, { model, stream: true, stream_options: withFields(request.stream_options ?? {}, { include_usage: true }) } as Partial<T>);
  }

  private async headersFor(call: UpstreamCall): Promise<Record<string, string>> {
    const auth = await this.settings.auth.headers(call);
    return mergeRecords(JSON_CONTENT, this.settings.headers, call.forwardHeaders, auth, { 'x-request-id': call.requestId });
  }

  private async postJson<T>(operation: AzureOperation, body: object, call: UpstreamCall): Promise<Parsed<T>> {
    const headers = await this.headersFor(call);
    return this.client.requestJson<T>({ method: 'POST', path: this.settings.route.path(operation), headers, body: JSON.stringify(body) }, call);
  }

  private async postStream<T>(operation: AzureOperation, body: object, call: UpstreamCall): Promise<EventStream<T>> {
    const headers = await this.headersFor(call);
    headers.accept = 'text/event-stream';
    return this.client.streamEvents<T>({ method: 'POST', path: this.settings.route.path(operation), headers, body: JSON.stringify(body) }, call, { isFinal: hasFinishOrUsage });
  }
}

/** Gives Azure's prompt-filter chunk (`"object": ""`) the object type of the chunks around it. */
export async function* repairChunks(events: EventStream<ChatChunk>): AsyncGenerator<StreamEvent<ChatChunk>> {
  for await (const event of events) {
    const chunk = event.value as Omit<ChatChunk, 'object'> & { object: string };
    if (chunk.object === '') {
      chunk.object = 'chat.completion.chunk';
      yield { value: chunk as ChatChunk, raw: null };
    } else {
      yield event;
    }
  }
}

/** A chunk that closes the answer: a finish_reason on a choice, or the usage chunk. */
function hasFinishOrUsage(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const chunk = value as { usage?: unknown; choices?: { finish_reason?: unknown }[] };
  if (chunk.usage !== undefined && chunk.usage !== null) return true;
  if (!Array.isArray(chunk.choices)) return false;
  return chunk.choices.some((choice) => choice?.finish_reason != null);
}
