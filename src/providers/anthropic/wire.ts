/**
 * Anthropic's Messages API on the wire (anthropic-version 2023-06-01), as far as Stellwerk
 * sends and reads it: the request, the answer, the stream events and the error body. Written
 * from the API reference and the `@anthropic-ai/sdk` types; fields Stellwerk never sends are left
 * out, and index signatures keep what Anthropic adds later (its versioning policy allows new
 * output fields, content block types and stream event types within a version).
 *
 * Exported for every part of Stellwerk that speaks this format (this provider, and the
 * Anthropic-format ingress).
 */

export const ANTHROPIC_VERSION = '2023-06-01';

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl | null;
}

export type ImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export interface ImageBlockParam {
  type: 'image';
  source: { type: 'base64'; media_type: ImageMediaType; data: string } | { type: 'url'; url: string };
  cache_control?: CacheControl | null;
}

export interface DocumentBlockParam {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'url'; url: string };
  title?: string;
  cache_control?: CacheControl | null;
}

export interface ToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
  cache_control?: CacheControl | null;
}

export interface ToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | (TextBlockParam | ImageBlockParam)[];
  is_error?: boolean;
  cache_control?: CacheControl | null;
}

export type ContentBlockParam = TextBlockParam | ImageBlockParam | DocumentBlockParam | ToolUseBlockParam | ToolResultBlockParam;

export interface MessageParam {
  role: 'user' | 'assistant';
  content: string | ContentBlockParam[];
}

export interface ToolParam {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  strict?: boolean;
  cache_control?: CacheControl | null;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface OutputConfig {
  format?: { type: 'json_schema'; schema: Record<string, unknown> };
}

/** POST /v1/messages */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  metadata?: { user_id?: string | null };
  stop_sequences?: string[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  tools?: ToolParam[];
  tool_choice?: ToolChoice;
  output_config?: OutputConfig;
}

// ---------------------------------------------------------------- the answer

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export interface TextBlock {
  type: 'text';
  text: string;
  [extra: string]: unknown;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  [extra: string]: unknown;
}

/** Thinking, redacted thinking, server tool blocks and whatever comes later: not shown to OpenAI clients. */
export interface OtherBlock {
  type: string;
  [extra: string]: unknown;
}

export type ContentBlock = TextBlock | ToolUseBlock | OtherBlock;

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
  [extra: string]: unknown;
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | string | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  [extra: string]: unknown;
}

// ---------------------------------------------------------------- stream events

export type ContentBlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta' | 'signature_delta' | 'citations_delta' | string; [extra: string]: unknown };

export type StreamEvent =
  | { type: 'message_start'; message: Message }
  | { type: 'content_block_start'; index: number; content_block: ContentBlock }
  | { type: 'content_block_delta'; index: number; delta: ContentBlockDelta }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: StopReason | string | null; stop_sequence?: string | null }; usage: AnthropicUsage }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: ErrorDetail };

// ---------------------------------------------------------------- errors

/** `error.type` values Anthropic documents; more may come. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface ErrorDetail {
  type: ErrorType | string;
  message: string;
  [extra: string]: unknown;
}

/** The body of every error response, and the data of an `error` stream event. */
export interface ErrorBody {
  type: 'error';
  error: ErrorDetail;
  request_id?: string;
}
