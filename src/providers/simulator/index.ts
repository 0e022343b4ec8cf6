import type { ChatField, FieldHandling } from '../../core/types.js';
import type { ProviderModule } from '../types.js';
import { SimulatorAdapter } from './adapter.js';
import { simulatorDeploymentSchema } from './config.js';

/** What the simulator makes of each field: the ones that shape an answer are honoured, the rest have no effect. */
const SIMULATOR_CHAT_FIELDS = {
  model: 'mapped',
  messages: 'mapped',
  audio: 'ignored',
  frequency_penalty: 'ignored',
  function_call: 'ignored',
  functions: 'ignored',
  logit_bias: 'ignored',
  logprobs: 'ignored',
  max_completion_tokens: 'mapped',
  max_tokens: 'mapped',
  metadata: 'ignored',
  modalities: 'ignored',
  moderation: 'ignored',
  n: 'mapped',
  parallel_tool_calls: 'ignored',
  prediction: 'ignored',
  presence_penalty: 'ignored',
  prompt_cache_key: 'ignored',
  prompt_cache_options: 'ignored',
  prompt_cache_retention: 'ignored',
  reasoning_effort: 'ignored',
  response_format: 'ignored',
  safety_identifier: 'ignored',
  seed: 'mapped',
  service_tier: 'ignored',
  stop: 'mapped',
  store: 'ignored',
  stream: 'mapped',
  stream_options: 'mapped',
  temperature: 'ignored',
  tool_choice: 'mapped',
  tools: 'mapped',
  top_logprobs: 'ignored',
  top_p: 'ignored',
  user: 'ignored',
  verbosity: 'ignored',
  web_search_options: 'ignored',
} as const satisfies Record<ChatField, FieldHandling>;

/** The in-process simulator: deterministic answers with configurable timing, for trying out and benchmarks. */
export const simulatorProvider = {
  name: 'simulator',
  deploymentSchema: simulatorDeploymentSchema,
  chatFields: SIMULATOR_CHAT_FIELDS,
  unusableReason: () => null,
  upstreamModel: (config) => config.model,
  create: (config) => new SimulatorAdapter(config),
} satisfies ProviderModule<typeof simulatorDeploymentSchema>;
