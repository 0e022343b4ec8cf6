import type { ChatChunk, ChatRequest, ChatResponse, CompletionsRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { CompletionObject, EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import { mergeRecords, withFields } from '../../core/merge.js';

export interface OpenAiWireSettings {
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly streamUsage: boolean;
  readonly timeouts: Timeouts;
}

type WithModel = { model: string; stream?: boolean | null; stream_options?: Record<string, unknown> | null };

/**
 * Talks to any server that speaks OpenAI's HTTP API (OpenAI itself, vLLM, SGLang, TGI,
 * llama.cpp, Ollama's /v1, LM Studio). The canonical types are OpenAI's shape, so requests go
 * out as they came in, with the upstream's model id, and answers come back untouched.
 */
export class OpenAiWireAdapter implements ProviderAdapter {
  private readonly client: UpstreamClient;
  private readonly baseHeaders: Readonly<Record<string, string>>;

  constructor(private readonly settings: OpenAiWireSettings) {
    this.client = new UpstreamClient({
      baseUrl: settings.baseUrl,
      timeouts: settings.timeouts,
      connections: settings.connections,
      secrets: [settings.apiKey],
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...settings.headers };
    if (settings.apiKey.length > 0) headers.authorization = `Bearer ${settings.apiKey}`;
    this.baseHeaders = headers;
  }

  // Not async: each hands on the promise of the one call below, so that a request waits through
  // no extra promise per layer.
  chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    return this.postJson<ChatResponse>('/chat/completions', this.withModel(request), call);
  }

  chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    return this.postStream<ChatChunk>('/chat/completions', this.streaming(request), call);
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

  probe(path: string, signal: AbortSignal): Promise<void> {
    return this.client.probe(path, signal);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private headersFor(call: UpstreamCall): Record<string, string> {
    return mergeRecords(this.baseHeaders, call.forwardHeaders, { 'x-request-id': call.requestId });
  }

  private withModel<T extends { model: string }>(request: T): T {
    return request.model === this.settings.model ? request : withFields<T>(request, { model: this.settings.model } as Partial<T>);
  }


  /** Streams, and asks for the usage chunk so that the gateway always learns what was used. */
  private streaming<T extends WithModel>(request: T): T {
    if (!this.settings.streamUsage) return withFields<T>(request, { model: this.settings.model, stream: true } as Partial<T>);
    return withFields<T>(request, { model: this.settings.model, stream: true, stream_options: withFields(request.stream_options ?? {}, { include_usage: true }) } as Partial<T>);
  }

  private postJson<T>(path: string, body: object, call: UpstreamCall): Promise<Parsed<T>> {
    // Synchronous throws (a body that cannot be serialised) become rejections, as from an async function.
    try {
      return this.client.requestJson<T>({ method: 'POST', path, headers: this.headersFor(call), body: JSON.stringify(body) }, call);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private postStream<T>(path: string, body: object, call: UpstreamCall): Promise<EventStream<T>> {
    const headers = this.headersFor(call);
    headers.accept = 'text/event-stream';
    try {
      return this.client.streamEvents<T>({ method: 'POST', path, headers, body: JSON.stringify(body) }, call, STREAM_EVENTS);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Text that a chunk with a non-null finish_reason or usage must contain (an escaped one inside a string does not match). */
const MAY_BE_FINAL = /"(?:finish_reason|usage)"\s*:\s*[^\sn]/;

/** How an OpenAI-shaped stream's last events are recognised. */
const STREAM_EVENTS = { isFinal: hasFinishOrUsage, mayBeFinal: (raw: string) => MAY_BE_FINAL.test(raw) };

/** A chunk that closes the answer: a finish_reason on a choice, or the usage chunk. */
function hasFinishOrUsage(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const chunk = value as { usage?: unknown; choices?: { finish_reason?: unknown }[] };
  if (chunk.usage !== undefined && chunk.usage !== null) return true;
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) if (choice?.finish_reason != null) return true;
  return false;
}
