import type { ChatField, FieldHandling } from '../../core/types.js';

/**
 * Azure OpenAI takes OpenAI's request format, so every field travels as the client sent it; the
 * gateway sets only the model and the streaming switches. Which fields a deployment knows depends
 * on its api-version and model (e.g. `store`, `prediction` or `reasoning_effort` need newer
 * versions): Azure answers for an unknown one with a 400 that reaches the client as is.
 */
export const AZURE_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'pass',
  audio: 'pass',
  frequency_penalty: 'pass',
  function_call: 'pass',
  functions: 'pass',
  logit_bias: 'pass',
  logprobs: 'pass',
  max_completion_tokens: 'pass',
  max_tokens: 'pass',
  metadata: 'pass',
  modalities: 'pass',
  moderation: 'pass',
  n: 'pass',
  parallel_tool_calls: 'pass',
  prediction: 'pass',
  presence_penalty: 'pass',
  prompt_cache_key: 'pass',
  prompt_cache_options: 'pass',
  prompt_cache_retention: 'pass',
  reasoning_effort: 'pass',
  response_format: 'pass',
  safety_identifier: 'pass',
  seed: 'pass',
  service_tier: 'pass',
  stop: 'pass',
  store: 'pass',
  stream: 'mapped',
  stream_options: 'mapped',
  temperature: 'pass',
  tool_choice: 'pass',
  tools: 'pass',
  top_logprobs: 'pass',
  top_p: 'pass',
  user: 'pass',
  verbosity: 'pass',
  web_search_options: 'pass',
} as const satisfies Record<ChatField, FieldHandling>;
