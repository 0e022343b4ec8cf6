import type { ChatField, FieldHandling } from '../../core/types.js';

/**
 * What the Messages API makes of each Chat Completions field. 'mapped' fields are translated in
 * chat.ts; some of them are refused there for values Anthropic cannot honour (n > 1,
 * logprobs: true, a json_object response format, audio output), since a value like `n: 1` or
 * `logprobs: false` is harmless and must not be refused. docs/providers/anthropic.md says the same.
 */
export const ANTHROPIC_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'mapped',
  /** Audio output: the Messages API answers in text only. */
  audio: 'rejected',
  /** No such sampling control. */
  frequency_penalty: 'ignored',
  /** The legacy form of tools; the answer would have to be a `function_call`. Use `tools`. */
  function_call: 'rejected',
  functions: 'rejected',
  /** Refused when non-empty: Anthropic has no token biasing. */
  logit_bias: 'mapped',
  /** Refused when true: Anthropic returns no log probabilities. */
  logprobs: 'mapped',
  max_completion_tokens: 'mapped',
  max_tokens: 'mapped',
  /** OpenAI's stored-completion tags; Anthropic's `metadata` holds only a user id. */
  metadata: 'ignored',
  /** Refused when it asks for anything but text. */
  modalities: 'mapped',
  moderation: 'ignored',
  /** Refused above 1: one answer per request. */
  n: 'mapped',
  /** false → tool_choice.disable_parallel_tool_use */
  parallel_tool_calls: 'mapped',
  /** Predicted outputs only speed OpenAI up; the answer is the same without them. */
  prediction: 'ignored',
  presence_penalty: 'ignored',
  /** Anthropic caches by `cache_control` markers, not by key. */
  prompt_cache_key: 'ignored',
  prompt_cache_options: 'ignored',
  prompt_cache_retention: 'ignored',
  /** Extended thinking is not switched on by the gateway (its blocks cannot travel back through OpenAI's format). */
  reasoning_effort: 'ignored',
  /** json_schema → output_config.format; json_object is refused (no schema-free JSON mode). */
  response_format: 'mapped',
  /** → metadata.user_id */
  safety_identifier: 'mapped',
  seed: 'ignored',
  service_tier: 'ignored',
  /** → stop_sequences */
  stop: 'mapped',
  store: 'ignored',
  stream: 'mapped',
  /** The gateway always learns usage from Anthropic's stream; the client gets the usage chunk if it asked. */
  stream_options: 'mapped',
  temperature: 'mapped',
  tool_choice: 'mapped',
  tools: 'mapped',
  /** Refused when above 0, with logprobs. */
  top_logprobs: 'mapped',
  top_p: 'mapped',
  /** → metadata.user_id */
  user: 'mapped',
  verbosity: 'ignored',
  /** Anthropic's web search is a server tool with its own result blocks, not mapped. */
  web_search_options: 'rejected',
} as const satisfies Record<ChatField, FieldHandling>;
