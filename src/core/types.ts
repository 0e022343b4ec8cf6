/**
 * Canonical types: the one shape every ingress protocol translates into and every provider
 * translates out of. They follow OpenAI's Chat Completions and Embeddings wire format, which
 * most upstreams speak natively, so the common path needs no translation at all.
 *
 * Unknown fields are kept (index signatures): Stellwerk parses once and passes through what it
 * does not need to understand.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface TextPart {
  type: 'text';
  text: string;
  [extra: string]: unknown;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
  [extra: string]: unknown;
}
export interface OtherPart {
  type: string;
  [extra: string]: unknown;
}
export type ContentPart = TextPart | ImagePart | OtherPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  [extra: string]: unknown;
}

export interface ChatMessage {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  [extra: string]: unknown;
}

export interface ToolDefinition {
  type: 'function' | string;
  function?: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  [extra: string]: unknown;
}

/**
 * Every Chat Completions request field Stellwerk knows by name. Providers declare what they do
 * with each one in a record typed `Record<ChatField, FieldHandling>`, so adding a field here
 * breaks the build until every provider has decided.
 */
export interface KnownChatFields {
  model: string;
  messages: ChatMessage[];
  audio?: unknown;
  frequency_penalty?: number | null;
  function_call?: unknown;
  functions?: unknown[];
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  max_completion_tokens?: number | null;
  max_tokens?: number | null;
  metadata?: Record<string, string> | null;
  modalities?: string[] | null;
  moderation?: unknown;
  n?: number | null;
  parallel_tool_calls?: boolean;
  prediction?: unknown;
  presence_penalty?: number | null;
  prompt_cache_key?: string | null;
  prompt_cache_options?: unknown;
  prompt_cache_retention?: string | null;
  reasoning_effort?: string | null;
  response_format?: { type: string; json_schema?: unknown; [extra: string]: unknown };
  safety_identifier?: string | null;
  seed?: number | null;
  service_tier?: string | null;
  stop?: string | string[] | null;
  store?: boolean | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean; [extra: string]: unknown } | null;
  temperature?: number | null;
  tool_choice?: 'none' | 'auto' | 'required' | { type: string; function?: { name: string } } | null;
  tools?: ToolDefinition[];
  top_logprobs?: number | null;
  top_p?: number | null;
  user?: string;
  verbosity?: string | null;
  web_search_options?: unknown;
}

export type ChatField = keyof KnownChatFields;

/** What a provider does with a request field: sends it on as is, maps it, or cannot honour it. */
export type FieldHandling = 'pass' | 'mapped' | 'ignored' | 'rejected';

export type ChatRequest = KnownChatFields & { [extra: string]: unknown };

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [extra: string]: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: number; [extra: string]: unknown } | null;
  [extra: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatChoice {
  index: number;
  message: ChatMessage & { role: 'assistant' };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
  [extra: string]: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

export interface ChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkChoice {
  index: number;
  delta: {
    role?: 'assistant';
    content?: string | null;
    tool_calls?: ChunkToolCall[];
    [extra: string]: unknown;
  };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
  [extra: string]: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  [extra: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
  [extra: string]: unknown;
}

/** Legacy text completions: passed through, only `model`, `prompt` and `stream` are looked at. */
export interface CompletionsRequest {
  model: string;
  prompt?: unknown;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean; [extra: string]: unknown } | null;
  [extra: string]: unknown;
}
