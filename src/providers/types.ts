import type { z } from 'zod';
import type {
  ChatChunk,
  ChatField,
  ChatRequest,
  ChatResponse,
  CompletionsRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FieldHandling,
  Usage,
} from '../core/types.js';
import type { Timeouts } from '../config/deployment-base.js';
import type { AbortLike } from './http/abort.js';

/** What an adapter gets for one upstream call. */
export interface UpstreamCall {
  /** Aborted when the client leaves or the total timeout passes; the adapter must stop at once. */
  readonly signal: AbortLike;
  readonly requestId: string;
  /** Headers from the client that travel upstream (e.g. traceparent). */
  readonly forwardHeaders: Readonly<Record<string, string>>;
}

/** A parsed upstream answer together with the bytes it came in, so an unchanged answer is sent as is. */
export interface Parsed<T> {
  readonly value: T;
  /** The upstream's JSON text when `value` is exactly what it says; null if the adapter built `value`. */
  readonly raw: string | null;
}

/** One event of a streamed answer: the parsed JSON and, when unchanged, its original text. */
export type StreamEvent<T> = Parsed<T>;

/** A started stream: headers have arrived with success, events follow. */
export type EventStream<T> = AsyncIterable<StreamEvent<T>>;

/**
 * A stream read in batches: each `nextBatch()` resolves with every event decoded so far (at
 * least one), or null at the end. `return()` stops it early (the upstream call is aborted).
 */
export interface EventBatches<T> {
  nextBatch(): Promise<readonly StreamEvent<T>[] | null>;
  return(): void;
}

/** A legacy text completion chunk or answer: passed through, only `usage` is read. */
export interface CompletionObject {
  usage?: Usage | null;
  choices?: unknown[];
  [extra: string]: unknown;
}

/**
 * The four things an upstream can be asked. Chat is required; the others are optional and an
 * alias whose deployments lack one answers `unsupported_endpoint`.
 */
export interface ProviderAdapter {
  chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>>;
  /** Resolves once the upstream accepted the request (status 2xx); failures before that reject. */
  chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>>;
  embeddings?(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>>;
  completions?(request: CompletionsRequest, call: UpstreamCall): Promise<Parsed<CompletionObject>>;
  completionsStream?(request: CompletionsRequest, call: UpstreamCall): Promise<EventStream<CompletionObject>>;
  /**
   * An active health check: a cheap GET of `path` on the upstream's origin (e.g. `/health` of
   * vLLM, TGI, llama.cpp); resolves when it answers 2xx. Offered by self-hostable upstreams.
   */
  probe?(path: string, signal: AbortSignal): Promise<void>;
  /** Lets in-flight calls finish, then frees connections. */
  close(): Promise<void>;
}

/** What a provider says about itself and how a deployment of it is built. */
export interface ProviderModule<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** The deployment's config schema: a strict object with `provider: z.literal(name)`. */
  readonly deploymentSchema: Schema;
  /** What the provider does with each Chat Completions field. */
  readonly chatFields: Readonly<Record<ChatField, FieldHandling>>;
  /**
   * For a provider whose deployments differ in what they honour (Vertex AI serves Gemini and
   * Claude): the table of one deployment; `chatFields` when absent.
   */
  chatFieldsFor?(config: z.infer<Schema>): Readonly<Record<ChatField, FieldHandling>>;
  /** A deployment that cannot work as configured (e.g. a cloud key missing from the environment). */
  unusableReason(config: z.infer<Schema>): string | null;
  /** The upstream model id, for logs and `x-stellwerk-*` headers. */
  upstreamModel(config: z.infer<Schema>): string;
  create(config: z.infer<Schema>, context: AdapterContext): ProviderAdapter;
}

export interface AdapterContext {
  readonly deploymentName: string;
  readonly timeouts: Timeouts;
}
