/**
 * What the ingress does with each top-level field of an Anthropic Messages request, so that none
 * is silently wrong:
 * - `mapped`: translated to the canonical request (translate-request.ts says how);
 * - `ignored`: has no effect behind the canonical model (a hint or an Anthropic account setting);
 *   named in the `x-stellwerk-ignored-params` response header when present;
 * - `rejected`: needs Anthropic's own servers (server-side state or tools); a 400 naming it.
 * A field not listed is treated as `ignored`. translate-request.test.ts makes the type check fail
 * when the SDK's `MessageCreateParams` has a field that is not listed here.
 */
export type AnthropicFieldHandling = 'mapped' | 'ignored' | 'rejected';

export const ANTHROPIC_REQUEST_FIELDS = {
  model: 'mapped',
  max_tokens: 'mapped',
  messages: 'mapped',
  system: 'mapped',
  stop_sequences: 'mapped',
  stream: 'mapped',
  temperature: 'mapped',
  top_p: 'mapped',
  top_k: 'mapped',
  metadata: 'mapped',
  tools: 'mapped',
  tool_choice: 'mapped',
  output_config: 'mapped',
  output_format: 'mapped',
  thinking: 'ignored',
  cache_control: 'ignored',
  service_tier: 'ignored',
  speed: 'ignored',
  inference_geo: 'ignored',
  diagnostics: 'ignored',
  user_profile_id: 'ignored',
  workspace_id: 'ignored',
  betas: 'ignored',
  container: 'rejected',
  mcp_servers: 'rejected',
  context_management: 'rejected',
  compaction: 'rejected',
  thread: 'rejected',
} as const satisfies Record<string, AnthropicFieldHandling>;

export type AnthropicRequestField = keyof typeof ANTHROPIC_REQUEST_FIELDS;

/**
 * Canonical fields by the Anthropic field they came from, so that what a deployment refuses or
 * ignores is reported to the client under the name it sent.
 */
export const ANTHROPIC_NAME_OF_CANONICAL: Readonly<Record<string, string>> = {
  max_tokens: 'max_tokens',
  messages: 'messages',
  stop: 'stop_sequences',
  stream: 'stream',
  temperature: 'temperature',
  top_p: 'top_p',
  user: 'metadata.user_id',
  tools: 'tools',
  tool_choice: 'tool_choice',
  parallel_tool_calls: 'tool_choice.disable_parallel_tool_use',
  response_format: 'output_config.format',
  reasoning_effort: 'output_config.effort',
};
