import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, ChatResponse, FinishReason, ToolCall, ToolDefinition, Usage } from '../../core/types.js';
import { convertMessages } from './messages.js';
import type { AnthropicUsage, Message, MessagesRequest, OutputConfig, TextBlockParam, ToolChoice, ToolParam } from './wire.js';

export interface RequestSettings {
  /** Anthropic's model id of the deployment. */
  readonly model: string;
  /** `max_tokens` when the client sets none (Anthropic requires one). */
  readonly maxTokens: number;
}

/**
 * A Chat Completions request → a Messages API request. Every field is decided in fields.ts;
 * values Anthropic cannot honour are refused here with a 400 naming the field, never dropped.
 */
export function toMessagesRequest(request: ChatRequest, settings: RequestSettings): MessagesRequest {
  refuseUnsupportedValues(request);
  const { system, messages } = convertMessages(request.messages);
  const body: MessagesRequest = {
    model: settings.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? settings.maxTokens,
    messages,
  };
  if (system.length > 0) body.system = systemField(system);
  const stop = stopSequences(request.stop);
  if (stop !== undefined) body.stop_sequences = stop;
  if (request.temperature != null) body.temperature = request.temperature;
  if (request.top_p != null) body.top_p = request.top_p;
  // safety_identifier is OpenAI's successor of `user`; both name the end user, as Anthropic's user_id does.
  const userId = request.safety_identifier ?? request.user;
  if (typeof userId === 'string' && userId.length > 0) body.metadata = { user_id: userId };
  const tools = toolsOf(request);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = toolChoice(request);
    if (choice !== undefined) body.tool_choice = choice;
  } else if (request.tool_choice === 'required' || (request.tool_choice !== null && typeof request.tool_choice === 'object')) {
    throw invalid('tool_choice', 'tool_choice asks for a tool call, but the request offers no tools.');
  }
  const output = outputConfig(request.response_format);
  if (output !== undefined) body.output_config = output;
  return body;
}

function refuseUnsupportedValues(request: ChatRequest): void {
  if (request.n != null && request.n !== 1) {
    throw invalid('n', 'Anthropic gives one answer per request; n must be 1 (send several requests for several answers).');
  }
  if (request.logprobs === true) throw invalid('logprobs', 'Anthropic returns no log probabilities.');
  if (request.top_logprobs != null && request.top_logprobs > 0) throw invalid('top_logprobs', 'Anthropic returns no log probabilities.');
  if (request.logit_bias != null && Object.keys(request.logit_bias).length > 0) {
    throw invalid('logit_bias', 'Anthropic has no token biasing.');
  }
  if (request.modalities != null && request.modalities.some((modality) => modality !== 'text')) {
    throw invalid('modalities', 'Anthropic answers in text only.');
  }
}

/** One system text is sent as a string; several keep their boundaries as blocks. */
function systemField(blocks: TextBlockParam[]): string | TextBlockParam[] {
  const only = blocks[0];
  if (blocks.length === 1 && only !== undefined && only.cache_control === undefined) return only.text;
  return blocks;
}

function stopSequences(stop: ChatRequest['stop']): string[] | undefined {
  if (stop === null || stop === undefined) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  return list.length === 0 ? undefined : list;
}

function toolsOf(request: ChatRequest): ToolParam[] {
  return (request.tools ?? []).map((tool, index) => toolParam(tool, `tools[${index}]`));
}

function toolParam(tool: ToolDefinition, path: string): ToolParam {
  const fn = tool.function;
  if (tool.type !== 'function' || fn === undefined || typeof fn.name !== 'string') {
    throw invalid(path, `Anthropic deployments take tools of type "function" only, not "${String(tool.type)}".`);
  }
  const param: ToolParam = { name: fn.name, input_schema: fn.parameters ?? { type: 'object', properties: {} } };
  if (typeof fn.description === 'string') param.description = fn.description;
  if (typeof fn.strict === 'boolean') param.strict = fn.strict;
  return param;
}

/** OpenAI's tool_choice and parallel_tool_calls → Anthropic's tool_choice (which carries both). */
function toolChoice(request: ChatRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  const single = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === null || choice === undefined) return request.parallel_tool_calls === false ? { type: 'auto', ...single } : undefined;
  if (choice === 'auto') return { type: 'auto', ...single };
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...single };
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'tool', name: choice.function.name, ...single };
  }
  throw invalid('tool_choice', 'tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.');
}

function outputConfig(format: ChatRequest['response_format']): OutputConfig | undefined {
  if (format === undefined || format === null || format.type === 'text') return undefined;
  if (format.type === 'json_schema') {
    const schema = (format.json_schema as { schema?: unknown } | undefined)?.schema;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw invalid('response_format', 'response_format json_schema needs json_schema.schema, a JSON schema object.');
    }
    return { format: { type: 'json_schema', schema: schema as Record<string, unknown> } };
  }
  if (format.type === 'json_object') {
    throw invalid('response_format', 'Anthropic has no JSON mode without a schema; use response_format {"type": "json_schema"} with a schema.');
  }
  throw invalid('response_format', `response_format type "${String(format.type)}" is not supported by Anthropic deployments.`);
}

// ---------------------------------------------------------------- the answer

/**
 * A Messages API answer → a Chat Completions answer: text blocks joined into `content`, tool_use
 * blocks as `tool_calls`. Thinking and server-tool blocks have no place in OpenAI's format and
 * are left out.
 */
export function toChatResponse(message: Message, created: number): ChatResponse {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const assistant: ChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
    refusal: null,
  };
  if (toolCalls.length > 0) assistant.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [{ index: 0, message: assistant, finish_reason: finishReason(message.stop_reason), logprobs: null }],
    usage: toUsage(message.usage),
  };
}

/** Anthropic's stop_reason → OpenAI's finish_reason. */
export function finishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, and pause_turn (a server tool's long turn paused: the answer so far is complete text).
      return 'stop';
  }
}

/**
 * Anthropic counts cached input apart from `input_tokens`; OpenAI's prompt_tokens include it, with
 * the cache reads as `cached_tokens`. Cache writes are named too, since they cost more than input.
 */
export function toUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + cacheWrite;
  const completion = usage.output_tokens ?? 0;
  const details: NonNullable<Usage['prompt_tokens_details']> = { cached_tokens: cacheRead };
  if (cacheWrite > 0) details.cache_creation_tokens = cacheWrite;
  const out: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: details };
  const thinking = usage.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') out.completion_tokens_details = { reasoning_tokens: thinking };
  return out;
}

/** Checks that a 2xx body is a Message before it is translated. */
export function isMessage(value: unknown): value is Message {
  if (value === null || typeof value !== 'object') return false;
  const message = value as Partial<Message>;
  return typeof message.id === 'string' && Array.isArray(message.content) && message.usage !== null && typeof message.usage === 'object';
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}
