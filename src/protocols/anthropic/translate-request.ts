import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolDefinition } from '../../core/types.js';
import { ANTHROPIC_REQUEST_FIELDS, type AnthropicFieldHandling } from './fields.js';
import {
  absent,
  invalid,
  isObject,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringArray,
  requireObject,
  requireString,
  type JsonObject,
} from './validate.js';

/**
 * An Anthropic Messages request → the canonical (OpenAI Chat Completions) request. Everything a
 * client can send is either mapped, reported as ignored or refused (fields.ts); content blocks
 * follow the rules written out at each function below and in docs/anthropic-ingress.md.
 */

/** What answering in Anthropic's shape needs to know about the request. */
export interface AnthropicRequestNotes {
  /** `stop_sequences` as sent, to tell `stop_sequence` from `end_turn` when the upstream says which matched. */
  readonly stopSequences: readonly string[];
  /** Fields present that have no effect, by their Anthropic names (for `x-stellwerk-ignored-params`). */
  readonly ignored: readonly string[];
  /**
   * `top_k`, which has no canonical field: sent on only to deployments whose upstream knows it as
   * an extension (operations.ts decides per deployment), named as ignored for the others.
   */
  readonly topK: number | undefined;
}

export interface TranslatedRequest {
  readonly request: ChatRequest;
  readonly notes: AnthropicRequestNotes;
}

export interface TranslateOptions {
  /** count_tokens takes the same body without `max_tokens`. */
  readonly forCounting?: boolean;
}

export function toCanonicalRequest(body: unknown, options: TranslateOptions = {}): TranslatedRequest {
  const object = requireObject(body, '');
  const ignored = checkFields(object);
  const model = requireString(object, 'model', '');
  if (model.length === 0) throw invalid('"model" must be a non-empty string.', 'model');
  const maxTokens = optionalInteger(object, 'max_tokens', '', 1);
  if (maxTokens === undefined && options.forCounting !== true) throw invalid('Missing required parameter: "max_tokens".', 'max_tokens');
  const request: ChatRequest = { model, messages: [...systemMessages(object.system), ...translateMessages(object.messages)] };
  if (maxTokens !== undefined && options.forCounting !== true) request.max_tokens = maxTokens;
  const stopSequences = optionalStringArray(object, 'stop_sequences', '') ?? [];
  if (stopSequences.length > 0) request.stop = stopSequences;
  if (optionalBoolean(object, 'stream', '') === true && options.forCounting !== true) request.stream = true;
  copySampling(object, request);
  const topK = optionalInteger(object, 'top_k', '', 0);
  const userId = userIdOf(object.metadata);
  if (userId !== undefined) request.user = userId;
  translateTools(object, request);
  translateOutputConfig(object, request);
  return { request, notes: { stopSequences, ignored, topK } };
}

/** Ignored fields named in a response header: only names that are safe there, and not too many. */
const NAMEABLE_FIELD = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_NAMED_FIELDS = 32;

/** Refuses the fields that need Anthropic's own servers; lists the ones that have no effect. */
function checkFields(object: JsonObject): string[] {
  const ignored: string[] = [];
  const known: Readonly<Record<string, AnthropicFieldHandling>> = ANTHROPIC_REQUEST_FIELDS;
  for (const field in object) {
    if (absent(object[field])) continue;
    const handling = Object.hasOwn(known, field) ? known[field] : 'ignored';
    if (handling === 'rejected') {
      throw invalid(`"${field}" is not supported: it needs Anthropic's own servers, and this gateway answers through any deployment.`, field);
    }
    if (handling === 'ignored' && ignored.length < MAX_NAMED_FIELDS && NAMEABLE_FIELD.test(field)) ignored.push(field);
  }
  return ignored;
}

function copySampling(object: JsonObject, request: ChatRequest): void {
  const temperature = optionalNumber(object, 'temperature', '');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(object, 'top_p', '');
  if (topP !== undefined) request.top_p = topP;
}

function userIdOf(metadata: unknown): string | undefined {
  if (absent(metadata)) return undefined;
  return optionalString(requireObject(metadata, 'metadata'), 'user_id', 'metadata');
}

function translateOutputConfig(object: JsonObject, request: ChatRequest): void {
  let format: unknown = object.output_format;
  let formatPath = 'output_format';
  if (!absent(object.output_config)) {
    const config = requireObject(object.output_config, 'output_config');
    const effort = optionalString(config, 'effort', 'output_config');
    if (effort !== undefined) request.reasoning_effort = effort;
    if (!absent(config.format)) {
      format = config.format;
      formatPath = 'output_config.format';
    }
  }
  if (absent(format)) return;
  const spec = requireObject(format, formatPath);
  if (spec.type !== 'json_schema') throw invalid(`"${formatPath}.type" must be "json_schema".`, `${formatPath}.type`);
  const schema = requireObject(spec.schema, `${formatPath}.schema`);
  request.response_format = { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } };
}

// ---------------------------------------------------------------- system and messages

function systemMessages(system: unknown): ChatMessage[] {
  if (absent(system)) return [];
  const text = systemText(system, 'system');
  return text === '' ? [] : [{ role: 'system', content: text }];
}

/** A system prompt as one string: text blocks joined by blank lines (cache_control hints dropped). */
function systemText(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw invalid(`"${path}" must be a string or an array of text blocks.`, path);
  return value
    .map((block, index) => {
      const blockPath = `${path}[${index}]`;
      const object = requireObject(block, blockPath);
      if (object.type !== 'text') throw invalid(`"${blockPath}.type" must be "text".`, `${blockPath}.type`);
      return requireString(object, 'text', blockPath);
    })
    .join('\n\n');
}

function translateMessages(value: unknown): ChatMessage[] {
  if (absent(value)) throw invalid('Missing required parameter: "messages".', 'messages');
  if (!Array.isArray(value)) throw invalid('"messages" must be an array.', 'messages');
  if (value.length === 0) throw invalid('"messages" must contain at least one message.', 'messages');
  const out: ChatMessage[] = [];
  value.forEach((item, index) => {
    const path = `messages[${index}]`;
    const message = requireObject(item, path);
    const role = message.role;
    const content = message.content;
    if (typeof content !== 'string' && !Array.isArray(content)) {
      throw invalid(
        absent(content) ? `Missing required parameter: "${path}.content".` : `"${path}.content" must be a string or an array of content blocks.`,
        `${path}.content`,
      );
    }
    if (role === 'user') userMessages(content, `${path}.content`, out);
    else if (role === 'assistant') assistantMessage(content, `${path}.content`, out);
    else if (role === 'system') out.push({ role: 'system', content: systemText(content, `${path}.content`) });
    else throw invalid(`"${path}.role" must be "user" or "assistant".`, `${path}.role`);
  });
  return out;
}

/**
 * A user turn: its tool_result blocks become `tool` messages (first, as OpenAI needs them right
 * after the assistant's tool calls), the rest one user message. Images inside a tool result go
 * into that user message, since OpenAI's tool messages carry text only. Thinking blocks are dropped.
 */
function userMessages(content: string | unknown[], path: string, out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content });
    return;
  }
  const tools: ChatMessage[] = [];
  const toolImages: ContentPart[] = [];
  const parts: ContentPart[] = [];
  content.forEach((item, index) => {
    const blockPath = `${path}[${index}]`;
    const block = requireObject(item, blockPath);
    const type = requireString(block, 'type', blockPath);
    if (type === 'tool_result') tools.push(toolMessage(block, blockPath, toolImages));
    else if (type !== 'thinking' && type !== 'redacted_thinking') parts.push(userPart(type, block, blockPath));
  });
  out.push(...tools);
  const all = [...toolImages, ...parts];
  if (all.length === 0) return;
  const only = all[0]!;
  out.push({ role: 'user', content: all.length === 1 && only.type === 'text' ? (only.text as string) : all });
}

function userPart(type: string, block: JsonObject, path: string): ContentPart {
  switch (type) {
    case 'text':
      return { type: 'text', text: requireString(block, 'text', path) };
    case 'image':
      return imagePart(block, path);
    case 'document':
      return documentPart(block, path);
    default:
      throw unsupportedBlock(type, path);
  }
}

/** base64 → a data URL, url → the URL; the Files API's `file` source cannot be resolved here. */
function imagePart(block: JsonObject, path: string): ContentPart {
  const source = requireObject(block.source, `${path}.source`);
  const kind = requireString(source, 'type', `${path}.source`);
  if (kind === 'base64') {
    const mediaType = requireString(source, 'media_type', `${path}.source`);
    const data = requireString(source, 'data', `${path}.source`);
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
  }
  if (kind === 'url') return { type: 'image_url', image_url: { url: requireString(source, 'url', `${path}.source`) } };
  throw invalid(`"${path}.source.type" "${kind}" is not supported; send the image as "base64" or "url".`, `${path}.source.type`);
}

/** A base64 PDF → OpenAI's `file` part; a plain-text document → its text. Others cannot be passed on. */
function documentPart(block: JsonObject, path: string): ContentPart {
  const source = requireObject(block.source, `${path}.source`);
  const kind = requireString(source, 'type', `${path}.source`);
  if (kind === 'text') return { type: 'text', text: requireString(source, 'data', `${path}.source`) };
  if (kind === 'base64') {
    const mediaType = requireString(source, 'media_type', `${path}.source`);
    const data = requireString(source, 'data', `${path}.source`);
    const filename = optionalString(block, 'title', path) ?? 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:${mediaType};base64,${data}` } };
  }
  throw invalid(`"${path}.source.type" "${kind}" is not supported for documents; send "base64" or "text".`, `${path}.source.type`);
}

/**
 * A tool_result → a `tool` message. Text blocks are joined by newlines; an error result is
 * prefixed "Error: " (OpenAI's tool messages have no is_error flag).
 */
function toolMessage(block: JsonObject, path: string, images: ContentPart[]): ChatMessage {
  const id = requireString(block, 'tool_use_id', path);
  const content = block.content;
  let text: string;
  if (absent(content)) text = '';
  else if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    const texts: string[] = [];
    content.forEach((item, index) => {
      const partPath = `${path}.content[${index}]`;
      const part = requireObject(item, partPath);
      const type = requireString(part, 'type', partPath);
      if (type === 'text') texts.push(requireString(part, 'text', partPath));
      else if (type === 'image') images.push(imagePart(part, partPath));
      else throw unsupportedBlock(type, partPath);
    });
    text = texts.join('\n');
  } else throw invalid(`"${path}.content" must be a string or an array of content blocks.`, `${path}.content`);
  if (optionalBoolean(block, 'is_error', path) === true) text = `Error: ${text}`;
  return { role: 'tool', tool_call_id: id, content: text };
}

/** An assistant turn: text blocks joined by blank lines, tool_use blocks as tool calls, thinking dropped. */
function assistantMessage(content: string | unknown[], path: string, out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'assistant', content });
    return;
  }
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((item, index) => {
    const blockPath = `${path}[${index}]`;
    const block = requireObject(item, blockPath);
    const type = requireString(block, 'type', blockPath);
    if (type === 'text') texts.push(requireString(block, 'text', blockPath));
    else if (type === 'tool_use') calls.push(toolCall(block, blockPath));
    else if (type !== 'thinking' && type !== 'redacted_thinking') throw unsupportedBlock(type, blockPath);
  });
  if (texts.length === 0 && calls.length === 0) return;
  const message: ChatMessage = { role: 'assistant', content: texts.length === 0 ? null : texts.join('\n\n') };
  if (calls.length > 0) message.tool_calls = calls;
  out.push(message);
}

function toolCall(block: JsonObject, path: string): ToolCall {
  const id = requireString(block, 'id', path);
  const name = requireString(block, 'name', path);
  const input = absent(block.input) ? {} : block.input;
  if (!isObject(input)) throw invalid(`"${path}.input" must be an object.`, `${path}.input`);
  return { id, type: 'function', function: { name, arguments: JSON.stringify(input) } };
}

function unsupportedBlock(type: string, path: string) {
  return invalid(`"${path}" is a "${type}" block, which is not supported through this gateway.`, path);
}

// ---------------------------------------------------------------- tools

/** Custom tools → function tools; tool_choice auto/any/tool/none → auto/required/named/none. */
function translateTools(object: JsonObject, request: ChatRequest): void {
  const tools = optionalArray(object, 'tools', '') ?? [];
  if (tools.length > 0) request.tools = tools.map(functionTool);
  if (absent(object.tool_choice)) return;
  const choice = requireObject(object.tool_choice, 'tool_choice');
  const type = requireString(choice, 'type', 'tool_choice');
  const disableParallel = optionalBoolean(choice, 'disable_parallel_tool_use', 'tool_choice');
  let canonical: ChatRequest['tool_choice'];
  if (type === 'auto') canonical = 'auto';
  else if (type === 'any') canonical = 'required';
  else if (type === 'none') canonical = 'none';
  else if (type === 'tool') canonical = { type: 'function', function: { name: requireString(choice, 'name', 'tool_choice') } };
  else throw invalid('"tool_choice.type" must be one of "auto", "any", "tool", "none".', 'tool_choice.type');
  if (tools.length === 0) {
    // Without tools, "auto" and "none" mean the same as no choice; OpenAI refuses a tool_choice without tools.
    if (type === 'any' || type === 'tool') throw invalid(`"tool_choice" "${type}" needs "tools".`, 'tool_choice');
    return;
  }
  request.tool_choice = canonical;
  if (disableParallel === true) request.parallel_tool_calls = false;
}

function functionTool(value: unknown, index: number): ToolDefinition {
  const path = `tools[${index}]`;
  const tool = requireObject(value, path);
  const type = tool.type;
  if (!absent(type) && type !== 'custom') {
    throw invalid(`"${path}" is the server tool "${String(type)}", which only Anthropic's servers run; only custom tools (name, description, input_schema) are supported.`, path);
  }
  const name = requireString(tool, 'name', path);
  if (absent(tool.input_schema)) throw invalid(`Missing required parameter: "${path}.input_schema".`, `${path}.input_schema`);
  const parameters = requireObject(tool.input_schema, `${path}.input_schema`);
  const fn: NonNullable<ToolDefinition['function']> = { name, parameters };
  const description = optionalString(tool, 'description', path);
  if (description !== undefined) fn.description = description;
  const strict = optionalBoolean(tool, 'strict', path);
  if (strict !== undefined) fn.strict = strict;
  return { type: 'function', function: fn };
}
