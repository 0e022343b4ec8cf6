import { GatewayError } from '../../core/errors.js';
import type { ChatChoice, ChatRequest, ChatResponse, FinishReason, ToolCall, ToolDefinition, Usage } from '../../core/types.js';
import { MISTRAL_CHAT_FIELDS } from './fields.js';
import { invalid, toMistralMessages } from './messages.js';
import type {
  MistralAssistantMessage,
  MistralChatRequest,
  MistralChatResponse,
  MistralContentChunk,
  MistralTool,
  MistralToolCall,
  MistralToolChoice,
  MistralUsage,
} from './wire.js';

type Json = Record<string, unknown>;

export interface MistralChatSettings {
  readonly model: string;
  /** The deployment's `safe_prompt`, for requests that do not set it. */
  readonly safePrompt: boolean | undefined;
}

/** Fields sent to Mistral under the same name and meaning. */
const SAME_NAME = ['temperature', 'top_p', 'stop', 'n', 'presence_penalty', 'frequency_penalty', 'parallel_tool_calls'] as const;
const RESPONSE_FORMATS = new Set(['text', 'json_object', 'json_schema']);

/**
 * OpenAI's Chat Completions request as Mistral's: `max_completion_tokens`/`max_tokens` →
 * `max_tokens`, `seed` → `random_seed`, `tool_choice: "required"` → `"any"`, messages rebuilt
 * (messages.ts). Fields Mistral has no use for are left out (fields.ts lists them, and the gateway
 * names them in `x-stellwerk-ignored-params`); values it cannot honour are refused with 400.
 * Fields Stellwerk does not know (Mistral's own, such as `prompt_mode` or `safe_prompt`) go as sent.
 */
export function toMistralChat(request: ChatRequest, settings: MistralChatSettings): MistralChatRequest {
  refuseUnsupportedValues(request);
  const out: MistralChatRequest = { model: settings.model, messages: toMistralMessages(request.messages) };
  for (const field of SAME_NAME) if (request[field] !== undefined && request[field] !== null) out[field] = request[field] as never;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) out.max_tokens = maxTokens;
  if (request.seed !== undefined && request.seed !== null) out.random_seed = request.seed;
  if (request.response_format !== undefined && request.response_format !== null) out.response_format = responseFormat(request.response_format);
  if (request.tools !== undefined && request.tools !== null && request.tools.length > 0) out.tools = request.tools.map(tool);
  if (request.tool_choice !== undefined && request.tool_choice !== null) out.tool_choice = toolChoice(request.tool_choice);
  if (request.prediction !== undefined && request.prediction !== null) out.prediction = prediction(request.prediction);
  if (settings.safePrompt !== undefined) out.safe_prompt = settings.safePrompt;
  for (const [field, value] of Object.entries(request)) {
    if (!Object.hasOwn(MISTRAL_CHAT_FIELDS, field) && value !== undefined) out[field] = value;
  }
  return out;
}

/** Values of 'mapped' fields that have no Mistral equivalent; harmless values (false, {}, ["text"]) pass. */
function refuseUnsupportedValues(request: ChatRequest): void {
  if (request.logprobs === true) throw invalid('"logprobs" is not supported by Mistral.', 'logprobs');
  if (typeof request.top_logprobs === 'number' && request.top_logprobs > 0) throw invalid('"top_logprobs" is not supported by Mistral.', 'top_logprobs');
  if (request.logit_bias !== undefined && request.logit_bias !== null && Object.keys(request.logit_bias).length > 0) {
    throw invalid('"logit_bias" is not supported by Mistral.', 'logit_bias');
  }
  if (Array.isArray(request.modalities) && request.modalities.some((modality) => modality !== 'text')) {
    throw invalid('Mistral answers in text only; "modalities" may only be ["text"].', 'modalities');
  }
}

function responseFormat(format: NonNullable<ChatRequest['response_format']>): MistralChatRequest['response_format'] {
  if (!RESPONSE_FORMATS.has(format.type)) {
    throw invalid(`response_format type "${format.type}" is not supported by Mistral (text, json_object, json_schema).`, 'response_format.type');
  }
  // OpenAI's json_schema object ({name, description, schema, strict}) is Mistral's as well.
  return format.type === 'json_schema' ? { type: 'json_schema', json_schema: format.json_schema } : { type: format.type };
}

function tool(definition: ToolDefinition, index: number): MistralTool {
  const fn = definition.function;
  if (definition.type !== 'function' || fn === undefined || typeof fn.name !== 'string') {
    throw invalid(`tools[${index}]: Mistral takes function tools only.`, `tools[${index}].type`);
  }
  const out: MistralTool = { type: 'function', function: { name: fn.name, parameters: fn.parameters ?? { type: 'object', properties: {} } } };
  if (fn.description !== undefined) out.function.description = fn.description;
  if (fn.strict !== undefined && fn.strict !== null) out.function.strict = fn.strict;
  return out;
}

function toolChoice(choice: NonNullable<ChatRequest['tool_choice']>): MistralToolChoice {
  if (choice === 'required') return 'any';
  if (choice === 'auto' || choice === 'none') return choice;
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'function', function: { name: choice.function.name } };
  }
  throw invalid('tool_choice must be "auto", "none", "required" or a function.', 'tool_choice');
}

/** OpenAI's prediction content may be text parts; Mistral's is one string. */
function prediction(value: unknown): MistralChatRequest['prediction'] {
  const record = value as Json;
  const content = record?.content;
  if (record?.type === 'content' && typeof content === 'string') return { type: 'content', content };
  if (record?.type === 'content' && Array.isArray(content)) {
    return { type: 'content', content: (content as Json[]).map((part) => (typeof part.text === 'string' ? part.text : '')).join('') };
  }
  throw invalid('prediction must be {"type": "content", "content": …}.', 'prediction');
}

// ---------------------------------------------------------------- answers

/** Mistral's finish reasons as OpenAI's; "error" (the model failed mid-answer) is an upstream error, never a quiet stop. */
export function finishReason(reason: string | null | undefined): FinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case 'stop':
      return 'stop';
    case 'length':
    case 'model_length':
      return 'length';
    case 'tool_calls':
      return 'tool_calls';
    case 'error':
      throw new GatewayError('upstream_error', {
        message: 'The upstream model failed while answering (Mistral finish_reason "error").',
        upstreamCode: 'error',
      });
    default:
      throw new GatewayError('upstream_bad_response', { message: `The upstream answered with an unknown finish_reason "${reason}".` });
  }
}

export function toUsage(usage: MistralUsage | null | undefined): Usage {
  const prompt = usage?.prompt_tokens ?? 0;
  const completion = usage?.completion_tokens ?? 0;
  const out: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.total_tokens ?? prompt + completion };
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? usage?.num_cached_tokens;
  if (typeof cached === 'number') out.prompt_tokens_details = { cached_tokens: cached };
  return out;
}

/** Text and thinking of a message: Mistral sends a string, or chunks (reasoning models). */
export function splitContent(content: string | MistralContentChunk[] | null | undefined): { text: string | null; reasoning: string | null } {
  if (content === null || content === undefined) return { text: null, reasoning: null };
  if (typeof content === 'string') return { text: content, reasoning: null };
  let text = '';
  let reasoning: string | null = null;
  for (const chunk of content) {
    if (chunk.type === 'text' && typeof chunk.text === 'string') text += chunk.text;
    else if (chunk.type === 'thinking' && Array.isArray(chunk.thinking)) {
      for (const part of chunk.thinking as { text?: unknown }[]) if (typeof part.text === 'string') reasoning = (reasoning ?? '') + part.text;
    }
  }
  return { text, reasoning };
}

export function toolCallArguments(args: MistralToolCall['function']['arguments'] | undefined): string {
  if (args === undefined || args === null) return '';
  return typeof args === 'string' ? args : JSON.stringify(args);
}

function assistantMessage(message: MistralAssistantMessage): ChatChoice['message'] {
  const { text, reasoning } = splitContent(message.content);
  const calls = message.tool_calls ?? [];
  const out: ChatChoice['message'] = { role: 'assistant', content: calls.length > 0 && text === '' ? null : text };
  if (reasoning !== null) out.reasoning_content = reasoning;
  if (calls.length > 0) {
    out.tool_calls = calls.map(
      (call): ToolCall => ({ id: call.id ?? '', type: 'function', function: { name: call.function.name, arguments: toolCallArguments(call.function.arguments) } }),
    );
  }
  return out;
}

export function isMistralChatResponse(value: unknown): value is MistralChatResponse {
  return value !== null && typeof value === 'object' && Array.isArray((value as Json).choices);
}

export function toChatResponse(body: MistralChatResponse, now: number): ChatResponse {
  return {
    id: body.id,
    object: 'chat.completion',
    created: body.created ?? now,
    model: body.model,
    choices: body.choices.map((choice) => ({
      index: choice.index,
      message: assistantMessage(choice.message ?? {}),
      finish_reason: finishReason(choice.finish_reason),
      logprobs: null,
    })),
    usage: toUsage(body.usage),
  };
}
