import type { ChatField, FieldHandling } from '../../core/types.js';

/**
 * What Mistral's chat API makes of each Chat Completions field. 'mapped' fields are translated in
 * chat.ts (some refused there for values Mistral cannot honour, since `logprobs: false` or
 * `modalities: ["text"]` are harmless); 'ignored' ones are left out of the request and named in
 * `x-stellwerk-ignored-params`; 'rejected' ones are refused with 400. docs/providers/mistral.md
 * says the same.
 */
export const MISTRAL_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'mapped',
  /** Audio output: Mistral's chat answers in text. */
  audio: 'rejected',
  frequency_penalty: 'pass',
  /** The legacy form of tools; its answer would be a `function_call`. Use `tools`. */
  function_call: 'rejected',
  functions: 'rejected',
  /** Refused when non-empty: no token biasing. */
  logit_bias: 'mapped',
  /** Refused when true: no log probabilities. */
  logprobs: 'mapped',
  /** Sent as `max_tokens` (and wins over it). */
  max_completion_tokens: 'mapped',
  max_tokens: 'mapped',
  /** OpenAI's stored-completion tags: nothing to tag at Mistral. */
  metadata: 'ignored',
  /** Only ["text"]: Mistral answers in text. */
  modalities: 'mapped',
  moderation: 'ignored',
  n: 'pass',
  parallel_tool_calls: 'pass',
  /** Mistral's predicted outputs: `{"type": "content", "content": "…"}`, content parts joined. */
  prediction: 'mapped',
  presence_penalty: 'pass',
  /** Mistral caches prompts by itself; there is no key or retention to set. */
  prompt_cache_key: 'ignored',
  prompt_cache_options: 'ignored',
  prompt_cache_retention: 'ignored',
  /** No such knob (Mistral's reasoning models take `prompt_mode`, which passes as an unknown field). */
  reasoning_effort: 'ignored',
  /** text, json_object and json_schema (the same json_schema object). */
  response_format: 'mapped',
  safety_identifier: 'ignored',
  /** Sent as `random_seed`. */
  seed: 'mapped',
  service_tier: 'ignored',
  stop: 'pass',
  store: 'ignored',
  stream: 'mapped',
  /** Mistral reports usage on every stream; the gateway shows it to clients that asked. */
  stream_options: 'mapped',
  temperature: 'pass',
  /** "required" is sent as "any". */
  tool_choice: 'mapped',
  /** Function tools; a missing `parameters` becomes an empty object schema. */
  tools: 'mapped',
  /** Refused when above 0: no log probabilities. */
  top_logprobs: 'mapped',
  top_p: 'pass',
  user: 'ignored',
  verbosity: 'ignored',
  /** Mistral's chat completions cannot search the web (its Agents API can). */
  web_search_options: 'rejected',
} as const satisfies Record<ChatField, FieldHandling>;
