import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, FinishReason, ToolCall, Usage } from '../../core/types.js';

/**
 * Chat Completions ⇄ Bedrock Converse. Converse has one `system` list, strictly alternating
 * user/assistant turns made of content blocks (text, image bytes, toolUse, toolResult), tools as
 * `toolConfig` and sampling in `inferenceConfig`. What cannot be expressed is refused with a 400
 * naming the field, never dropped.
 */

type Json = Record<string, unknown>;

export interface ConverseImageBlock {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  source: { bytes: string };
}
export interface ConverseContentBlock {
  text?: string;
  image?: ConverseImageBlock;
  toolUse?: { toolUseId: string; name: string; input: unknown };
  toolResult?: { toolUseId: string; content: { text: string }[] };
  [other: string]: unknown;
}
export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseContentBlock[];
}
export interface ConverseToolConfig {
  tools: { toolSpec: { name: string; description?: string; inputSchema: { json: unknown }; strict?: boolean } }[];
  toolChoice?: { auto: Json } | { any: Json } | { tool: { name: string } };
}
export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: ConverseToolConfig;
  outputConfig?: { textFormat: { type: 'json_schema'; structure: { jsonSchema: { schema: string; name?: string; description?: string } } } };
  requestMetadata?: Record<string, string>;
  serviceTier?: { type: string };
  additionalModelRequestFields?: Json;
  guardrailConfig?: { guardrailIdentifier: string; guardrailVersion: string; trace?: string };
}

/** What the deployment adds to every request. */
export interface ConverseExtras {
  readonly additionalModelRequestFields?: Json;
  readonly guardrail?: { identifier: string; version: string; trace?: string };
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}
export interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseContentBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
  [other: string]: unknown;
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}

// ---------------------------------------------------------------- request

export function toConverseRequest(request: ChatRequest, extras: ConverseExtras = {}): ConverseRequest {
  refuseUnsupported(request);
  const { system, messages } = conversation(request.messages);
  const out: ConverseRequest = { messages };
  if (system.length > 0) out.system = system;
  const inference = inferenceConfig(request);
  if (inference !== undefined) out.inferenceConfig = inference;
  const tools = toolConfig(request);
  if (tools !== undefined) out.toolConfig = tools;
  const output = outputConfig(request);
  if (output !== undefined) out.outputConfig = output;
  if (request.metadata !== undefined && request.metadata !== null && Object.keys(request.metadata).length > 0) {
    out.requestMetadata = request.metadata;
  }
  const tier = serviceTier(request.service_tier);
  if (tier !== undefined) out.serviceTier = tier;
  if (extras.additionalModelRequestFields !== undefined) out.additionalModelRequestFields = extras.additionalModelRequestFields;
  if (extras.guardrail !== undefined) {
    const { identifier, version, trace } = extras.guardrail;
    out.guardrailConfig = { guardrailIdentifier: identifier, guardrailVersion: version, ...(trace === undefined ? {} : { trace }) };
  }
  return out;
}

/** Values of otherwise honoured fields that Converse cannot deliver. */
function refuseUnsupported(request: ChatRequest): void {
  if (typeof request.n === 'number' && request.n > 1) {
    throw invalid('"n" greater than 1 is not supported by Bedrock: Converse returns one choice per request.', 'n');
  }
  if (request.logprobs === true) throw invalid('"logprobs" is not supported by Bedrock: Converse returns no token probabilities.', 'logprobs');
  if (typeof request.top_logprobs === 'number' && request.top_logprobs > 0) {
    throw invalid('"top_logprobs" is not supported by Bedrock: Converse returns no token probabilities.', 'top_logprobs');
  }
  const bias = request.logit_bias;
  if (bias !== undefined && bias !== null && Object.keys(bias).length > 0) {
    throw invalid('"logit_bias" is not supported by Bedrock: Converse cannot bias tokens.', 'logit_bias');
  }
  const modalities = request.modalities;
  if (Array.isArray(modalities) && modalities.some((modality) => modality !== 'text')) {
    throw invalid('Bedrock answers with text only; "modalities" may only contain "text".', 'modalities');
  }
}

/** System and developer messages go to `system`; the rest become alternating turns. */
function conversation(input: ChatMessage[]): { system: { text: string }[]; messages: ConverseMessage[] } {
  const system: { text: string }[] = [];
  const turns: ConverseMessage[] = [];
  input.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        for (const text of textsOf(message.content, `messages[${index}].content`)) system.push({ text });
        return;
      case 'user':
        turns.push({ role: 'user', content: userContent(message.content, index) });
        return;
      case 'assistant': {
        const content = assistantContent(message, index);
        if (content.length > 0) turns.push({ role: 'assistant', content });
        return;
      }
      case 'tool':
        turns.push({ role: 'user', content: [toolResult(message, index)] });
        return;
      default:
        throw invalid(`Role "${message.role}" is not supported by Bedrock; use "tool" messages for tool results.`, `messages[${index}].role`);
    }
  });
  return { system, messages: mergeTurns(turns) };
}

/**
 * Converse wants user and assistant to alternate: several tool results answering one assistant
 * turn, or a tool result followed by a user message, are one user turn there.
 */
function mergeTurns(turns: ConverseMessage[]): ConverseMessage[] {
  const merged: ConverseMessage[] = [];
  for (const turn of turns) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.role === turn.role) last.content = [...last.content, ...turn.content];
    else merged.push({ role: turn.role, content: [...turn.content] });
  }
  return merged;
}

/** The texts of a string or of text parts; any other part is refused (system and tool messages). */
function textsOf(content: ChatMessage['content'], param: string): string[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [content];
  return content.map((part, index) => {
    if (part.type === 'text' && typeof part.text === 'string') return part.text;
    throw invalid(`Content parts of type "${part.type}" are not supported here; only text.`, `${param}[${index}]`);
  });
}

function userContent(content: ChatMessage['content'], index: number): ConverseContentBlock[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [{ text: content }];
  return content.map((part, partIndex) => {
    const param = `messages[${index}].content[${partIndex}]`;
    if (part.type === 'text' && typeof part.text === 'string') return { text: part.text };
    if (part.type === 'image_url') return { image: imageBlock(part.image_url, `${param}.image_url.url`) };
    throw invalid(`Content parts of type "${part.type}" are not supported by Bedrock; use text or image_url.`, `${param}.type`);
  });
}

const IMAGE_FORMATS: Record<string, ConverseImageBlock['format']> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Bedrock takes image bytes only: a base64 data URL is unpacked; a web URL cannot be fetched there. */
function imageBlock(imageUrl: unknown, param: string): ConverseImageBlock {
  const url = (imageUrl as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') throw invalid('An image_url part needs "image_url.url".', param);
  const match = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s.exec(url);
  if (match === null) {
    const reason = /^https?:/i.test(url)
      ? 'Bedrock takes image bytes only, not web URLs: send the image as a data URL (data:image/png;base64,…).'
      : 'The image must be a base64 data URL (data:image/png;base64,…).';
    throw invalid(reason, param);
  }
  const format = IMAGE_FORMATS[match[1]!.toLowerCase()];
  if (format === undefined) throw invalid(`Image type "${match[1]}" is not supported by Bedrock; use PNG, JPEG, GIF or WebP.`, param);
  return { format, source: { bytes: match[3]!.replace(/\s+/g, '') } };
}

function assistantContent(message: ChatMessage, index: number): ConverseContentBlock[] {
  const blocks: ConverseContentBlock[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    // An empty text beside tool calls is how many clients write "no text"; Bedrock refuses blank blocks.
    if (content.length > 0) blocks.push({ text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part, partIndex) => {
      if (part.type === 'text' && typeof part.text === 'string') {
        if (part.text.length > 0) blocks.push({ text: part.text });
      } else if (part.type !== 'refusal') {
        throw invalid(`Assistant content parts of type "${part.type}" are not supported by Bedrock.`, `messages[${index}].content[${partIndex}]`);
      }
    });
  }
  (message.tool_calls ?? []).forEach((call, callIndex) => blocks.push({ toolUse: toolUse(call, `messages[${index}].tool_calls[${callIndex}]`) }));
  return blocks;
}

function toolUse(call: ToolCall, param: string): { toolUseId: string; name: string; input: unknown } {
  if (call.type !== 'function' || typeof call.function?.name !== 'string') {
    throw invalid('Only function tool calls are supported by Bedrock.', `${param}.type`);
  }
  const args = call.function.arguments;
  let input: unknown = {};
  if (typeof args === 'string' && args.trim().length > 0) {
    try {
      input = JSON.parse(args);
    } catch {
      throw invalid('Tool call arguments must be JSON: Bedrock stores them as a JSON object.', `${param}.function.arguments`);
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalid('Tool call arguments must be a JSON object for Bedrock.', `${param}.function.arguments`);
  }
  return { toolUseId: call.id, name: call.function.name, input };
}

/**
 * A tool result as text. No `status` is sent: OpenAI's tool messages carry none, and only some
 * Bedrock models accept the field.
 */
function toolResult(message: ChatMessage, index: number): ConverseContentBlock {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id.length === 0) {
    throw invalid('A tool message needs "tool_call_id".', `messages[${index}].tool_call_id`);
  }
  const texts = textsOf(message.content, `messages[${index}].content`);
  return { toolResult: { toolUseId: message.tool_call_id, content: (texts.length > 0 ? texts : ['']).map((text) => ({ text })) } };
}

function inferenceConfig(request: ChatRequest): ConverseRequest['inferenceConfig'] {
  const config: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxTokens = maxTokens;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  const stop = request.stop;
  if (typeof stop === 'string') config.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) config.stopSequences = stop;
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * Tools and the choice among them. Converse has no "none": with `tool_choice: "none"` the tools
 * are not sent at all, which is what "none" means, though Bedrock then refuses a conversation
 * that already holds tool calls (it wants the tools declared whenever toolUse blocks appear).
 */
function toolConfig(request: ChatRequest): ConverseToolConfig | undefined {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  if (tools.length === 0 || choice === 'none') return undefined;
  const config: ConverseToolConfig = {
    tools: tools.map((tool, index) => {
      const fn = tool.function;
      if (tool.type !== 'function' || fn === undefined || typeof fn.name !== 'string') {
        throw invalid(`Tools of type "${tool.type}" are not supported by Bedrock; only "function".`, `tools[${index}].type`);
      }
      const spec: ConverseToolConfig['tools'][number]['toolSpec'] = {
        name: fn.name,
        inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } },
      };
      if (typeof fn.description === 'string' && fn.description.length > 0) spec.description = fn.description;
      if (fn.strict === true) spec.strict = true;
      return { toolSpec: spec };
    }),
  };
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (choice !== undefined && choice !== null) {
    const name = typeof choice === 'object' ? choice.function?.name : undefined;
    if (typeof name !== 'string') throw invalid('"tool_choice" must be "none", "auto", "required" or name a function.', 'tool_choice');
    config.toolChoice = { tool: { name } };
  }
  return config;
}

/** `json_schema` becomes Converse structured output; Converse has no schema-less JSON mode. */
function outputConfig(request: ChatRequest): ConverseRequest['outputConfig'] {
  const format = request.response_format;
  if (format === undefined || format === null || format.type === 'text') return undefined;
  if (format.type !== 'json_schema') {
    throw invalid(`response_format "${format.type}" is not supported by Bedrock; use "json_schema" with a schema.`, 'response_format');
  }
  const spec = (format.json_schema ?? {}) as { name?: unknown; description?: unknown; schema?: unknown };
  if (spec.schema === undefined || spec.schema === null || typeof spec.schema !== 'object') {
    throw invalid('response_format.json_schema.schema must be a JSON schema object.', 'response_format.json_schema.schema');
  }
  const jsonSchema: { schema: string; name?: string; description?: string } = { schema: JSON.stringify(spec.schema) };
  if (typeof spec.name === 'string') jsonSchema.name = spec.name;
  if (typeof spec.description === 'string') jsonSchema.description = spec.description;
  return { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
}

/** OpenAI's tiers that Bedrock also has; "auto" leaves the choice to Bedrock. */
function serviceTier(tier: string | null | undefined): { type: string } | undefined {
  if (tier === undefined || tier === null || tier === 'auto') return undefined;
  if (tier === 'default' || tier === 'flex' || tier === 'priority') return { type: tier };
  throw invalid(`service_tier "${tier}" is not offered by Bedrock; use auto, default, flex or priority.`, 'service_tier');
}

// ---------------------------------------------------------------- response

/** Bedrock's stop reasons in OpenAI's words; a malformed output has no better name than "stop". */
export function finishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * Bedrock counts cache reads and writes apart from `inputTokens`; OpenAI's prompt_tokens holds
 * every prompt token, with the cached ones also named in prompt_tokens_details.
 */
export function usageOf(usage: ConverseUsage | undefined): Usage {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const prompt = (usage?.inputTokens ?? 0) + cacheRead + (usage?.cacheWriteInputTokens ?? 0);
  const completion = usage?.outputTokens ?? 0;
  const out: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (usage?.cacheReadInputTokens !== undefined || usage?.cacheWriteInputTokens !== undefined) {
    out.prompt_tokens_details = { cached_tokens: cacheRead };
  }
  return out;
}

export interface AnswerMeta {
  readonly id: string;
  readonly model: string;
  readonly created: number;
}

export function fromConverseResponse(response: ConverseResponse, meta: AnswerMeta): ChatResponse {
  const blocks = response.output?.message?.content;
  if (!Array.isArray(blocks)) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream answered without output.message.content.' });
  }
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of blocks) {
    if (typeof block.text === 'string') text = (text ?? '') + block.text;
    else if (block.toolUse !== undefined) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: 'function',
        function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
    // Reasoning blocks have no place in a Chat Completions message.
  }
  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content: text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: finishReason(response.stopReason), logprobs: null }],
    usage: usageOf(response.usage),
  };
}
