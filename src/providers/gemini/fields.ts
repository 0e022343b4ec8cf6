import type { ChatField, FieldHandling } from '../../core/types.js';

/**
 * What a Google model (Gemini API, or Vertex AI publisher google) does with each Chat Completions
 * field. Google's GenerateContent has counterparts for most sampling fields; what it lacks is either
 * refused (it would change the answer) or ignored (it would not), as docs/providers/gemini.md lists.
 */
export const GOOGLE_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'mapped',
  audio: 'rejected',
  frequency_penalty: 'mapped',
  function_call: 'rejected',
  functions: 'rejected',
  logit_bias: 'rejected',
  logprobs: 'mapped',
  max_completion_tokens: 'mapped',
  max_tokens: 'mapped',
  metadata: 'ignored',
  modalities: 'mapped',
  moderation: 'ignored',
  n: 'mapped',
  parallel_tool_calls: 'ignored',
  prediction: 'ignored',
  presence_penalty: 'mapped',
  prompt_cache_key: 'ignored',
  prompt_cache_options: 'ignored',
  prompt_cache_retention: 'ignored',
  reasoning_effort: 'mapped',
  response_format: 'mapped',
  safety_identifier: 'ignored',
  seed: 'mapped',
  service_tier: 'ignored',
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
