import type { ChatField, FieldHandling } from '../../core/types.js';

/**
 * What Bedrock's Converse API makes of each Chat Completions field; docs/providers/bedrock.md has
 * the same table, and fields.test.ts keeps the two in agreement. 'mapped' fields are translated in
 * chat.ts, which also refuses the values Converse cannot honour (n > 1, logprobs, logit_bias, a
 * json_object response format, an http image). 'ignored' fields only tune sampling, caching or
 * bookkeeping that Converse has no knob for; the gateway names them in x-stellwerk-ignored-params.
 * 'rejected' fields ask for output Bedrock cannot produce; the gateway refuses them with a 400.
 */
export const BEDROCK_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'mapped',
  audio: 'rejected',
  frequency_penalty: 'ignored',
  function_call: 'rejected',
  functions: 'rejected',
  logit_bias: 'mapped',
  logprobs: 'mapped',
  max_completion_tokens: 'mapped',
  max_tokens: 'mapped',
  metadata: 'mapped',
  modalities: 'mapped',
  moderation: 'ignored',
  n: 'mapped',
  parallel_tool_calls: 'ignored',
  prediction: 'ignored',
  presence_penalty: 'ignored',
  prompt_cache_key: 'ignored',
  prompt_cache_options: 'ignored',
  prompt_cache_retention: 'ignored',
  reasoning_effort: 'ignored',
  response_format: 'mapped',
  safety_identifier: 'ignored',
  seed: 'ignored',
  service_tier: 'mapped',
  stop: 'mapped',
  store: 'ignored',
  stream: 'mapped',
  stream_options: 'mapped',
  temperature: 'mapped',
  tool_choice: 'mapped',
  tools: 'mapped',
  top_logprobs: 'mapped',
  top_p: 'mapped',
  user: 'ignored',
  verbosity: 'ignored',
  web_search_options: 'rejected',
} as const satisfies Record<ChatField, FieldHandling>;
