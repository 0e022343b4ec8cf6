/**
 * Mistral's chat and embeddings wire types, from its API reference (api.mistral.ai/v1). Only what
 * the gateway writes or reads is typed; answers may carry more. Mistral refuses unknown request
 * fields (422 `extra_forbidden`), on the request and on every message, so requests are built from
 * these types field by field.
 */

export type MistralRole = 'system' | 'user' | 'assistant' | 'tool';

export type MistralContentChunk =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: string | { url: string; detail?: string } }
  | { type: 'input_audio'; input_audio: string }
  | { type: 'thinking'; thinking: { type: 'text'; text: string }[]; closed?: boolean }
  | { type: string; [extra: string]: unknown };

export interface MistralToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string | Record<string, unknown> };
  index?: number;
}

export type MistralMessage =
  | { role: 'system'; content: string | MistralContentChunk[] }
  | { role: 'user'; content: string | MistralContentChunk[] }
  | { role: 'assistant'; content?: string | MistralContentChunk[] | null; tool_calls?: MistralToolCall[]; prefix?: boolean }
  | { role: 'tool'; content: string | MistralContentChunk[]; tool_call_id: string; name?: string };

export interface MistralTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

export type MistralToolChoice = 'auto' | 'none' | 'any' | { type: 'function'; function: { name: string } };

export interface MistralChatRequest {
  model: string;
  messages: MistralMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stream?: boolean;
  stop?: string | string[];
  random_seed?: number;
  response_format?: { type: string; json_schema?: unknown };
  tools?: MistralTool[];
  tool_choice?: MistralToolChoice;
  presence_penalty?: number;
  frequency_penalty?: number;
  n?: number;
  prediction?: { type: 'content'; content: string };
  parallel_tool_calls?: boolean;
  safe_prompt?: boolean;
  /** Fields the client sent that Stellwerk does not know travel as they are (e.g. `prompt_mode`). */
  [extra: string]: unknown;
}

export type MistralFinishReason = 'stop' | 'length' | 'model_length' | 'error' | 'tool_calls';

export interface MistralUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  num_cached_tokens?: number | null;
  [extra: string]: unknown;
}

export interface MistralAssistantMessage {
  role?: string | null;
  content?: string | MistralContentChunk[] | null;
  tool_calls?: MistralToolCall[] | null;
  prefix?: boolean;
}

export interface MistralChatResponse {
  id: string;
  object?: string;
  model: string;
  created?: number;
  usage?: MistralUsage;
  choices: { index: number; message: MistralAssistantMessage; finish_reason: MistralFinishReason | string | null }[];
}

export interface MistralChunk {
  id: string;
  object?: string;
  model: string;
  created?: number;
  usage?: MistralUsage | null;
  choices: { index: number; delta: MistralAssistantMessage; finish_reason: MistralFinishReason | string | null }[];
}

export interface MistralEmbeddingsRequest {
  model: string;
  input: string | string[];
  output_dimension?: number;
  [extra: string]: unknown;
}

export interface MistralEmbeddingsResponse {
  id?: string;
  object?: string;
  model: string;
  usage?: MistralUsage;
  data: { object?: string; index: number; embedding: number[] }[];
}
