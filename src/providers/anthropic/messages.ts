import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ContentPart, ToolCall } from '../../core/types.js';
import type {
  CacheControl,
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  ImageMediaType,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from './wire.js';

export interface ConvertedMessages {
  /** Every system and developer message's text, in order, for the top-level `system`. */
  readonly system: TextBlockParam[];
  /** Alternating user and assistant turns. */
  readonly messages: MessageParam[];
}

type Turn = { role: 'user' | 'assistant'; content: ContentBlockParam[] };

const IMAGE_TYPES: ReadonlySet<string> = new Set<ImageMediaType>(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * OpenAI's message list → Anthropic's `system` and turns. System and developer messages go to
 * the top-level `system` (the 2023-06-01 API has no system role inside `messages`, so one that
 * comes mid-conversation moves to the front). Tool results become `tool_result` blocks of a user
 * turn. Consecutive turns of one role are merged into one, as Anthropic requires alternation;
 * tool results then come first in their user turn, as it also requires.
 */
export function convertMessages(messages: readonly ChatMessage[]): ConvertedMessages {
  const system: TextBlockParam[] = [];
  const turns: Turn[] = [];
  const add = (role: Turn['role'], blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  messages.forEach((message, index) => {
    const path = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textOnly(message.content, path));
        break;
      case 'user':
        add('user', userBlocks(message.content, path));
        break;
      case 'assistant':
        add('assistant', assistantBlocks(message, path));
        break;
      case 'tool':
        add('user', [toolResult(message, path)]);
        break;
      default:
        throw invalid(`${path}.role`, `The role "${String(message.role)}" is not supported by Anthropic deployments; use "tool" messages for function results.`);
    }
  });
  return { system, messages: turns.map(compactTurn) };
}

/** A turn of one plain text block is sent as a string, as Anthropic's own examples do. */
function compactTurn(turn: Turn): MessageParam {
  const only = turn.content[0];
  if (turn.content.length === 1 && only !== undefined && only.type === 'text' && only.cache_control === undefined) {
    return { role: turn.role, content: only.text };
  }
  return turn;
}

function userBlocks(content: ChatMessage['content'], path: string): ContentBlockParam[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return textBlocks(content);
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'The content must be a string or a list of parts.');
  const blocks: ContentBlockParam[] = [];
  content.forEach((part, index) => {
    const at = `${path}.content[${index}]`;
    switch (part.type) {
      case 'text':
        blocks.push(...textPart(part, at));
        break;
      case 'image_url':
        blocks.push(imageBlock(part, at));
        break;
      case 'file':
        blocks.push(documentBlock(part, at));
        break;
      default:
        throw invalid(at, `Content parts of type "${part.type}" are not supported by Anthropic deployments (text, image_url and PDF files are).`);
    }
  });
  return blocks;
}

function assistantBlocks(message: ChatMessage, path: string): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  const content = message.content;
  if (typeof content === 'string') blocks.push(...textBlocks(content));
  else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      const at = `${path}.content[${index}]`;
      // An earlier refusal is part of the conversation; Anthropic has no refusal block, so it is text.
      if (part.type === 'refusal' && typeof part.refusal === 'string') blocks.push(...textBlocks(part.refusal));
      else if (part.type === 'text') blocks.push(...textPart(part, at));
      else throw invalid(at, `Assistant content parts of type "${part.type}" are not supported (text and refusal are).`);
    });
  } else if (content !== null && content !== undefined) {
    throw invalid(`${path}.content`, 'The content must be a string or a list of parts.');
  }
  (message.tool_calls ?? []).forEach((call, index) => blocks.push(toolUse(call, `${path}.tool_calls[${index}]`)));
  return blocks;
}

function toolUse(call: ToolCall, path: string): ToolUseBlockParam {
  if (call?.type !== 'function' || typeof call.function?.name !== 'string' || typeof call.id !== 'string') {
    throw invalid(path, 'A tool call needs an id, type "function" and a function name.');
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments, `${path}.function.arguments`) };
}

/** Anthropic takes a tool call's input as a JSON object, where OpenAI has the arguments as JSON text. */
function toolInput(text: unknown, path: string): Record<string, unknown> {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) return {};
  if (typeof text !== 'string') throw invalid(path, 'The arguments must be a string of JSON.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(path, 'The arguments are not valid JSON; Anthropic needs them as a JSON object.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(path, 'The arguments must be a JSON object for Anthropic.');
  }
  return value as Record<string, unknown>;
}

function toolResult(message: ChatMessage, path: string): ToolResultBlockParam {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id.length === 0) {
    throw invalid(`${path}.tool_call_id`, 'A tool message needs the tool_call_id of the call it answers.');
  }
  const blocks = textOnly(message.content, path);
  const block: ToolResultBlockParam = { type: 'tool_result', tool_use_id: message.tool_call_id };
  const only = blocks[0];
  if (blocks.length === 1 && only !== undefined && only.cache_control === undefined) block.content = only.text;
  else if (blocks.length > 0) block.content = blocks;
  return block;
}

/** Content that may only hold text: system, developer and tool messages. */
function textOnly(content: ChatMessage['content'], path: string): TextBlockParam[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return textBlocks(content);
  if (!Array.isArray(content)) throw invalid(`${path}.content`, 'The content must be a string or a list of parts.');
  const blocks: TextBlockParam[] = [];
  content.forEach((part, index) => {
    const at = `${path}.content[${index}]`;
    if (part.type !== 'text') throw invalid(at, `This message may only hold text parts, not "${part.type}".`);
    blocks.push(...textPart(part, at));
  });
  return blocks;
}

/** Anthropic refuses empty text blocks; an empty text carries nothing, so it is left out. */
function textBlocks(text: string): TextBlockParam[] {
  return text.length === 0 ? [] : [{ type: 'text', text }];
}

function textPart(part: ContentPart, path: string): TextBlockParam[] {
  if (typeof part.text !== 'string') throw invalid(`${path}.text`, 'A text part needs a string "text".');
  const blocks = textBlocks(part.text);
  const cache = cacheControl(part);
  if (cache !== undefined && blocks[0] !== undefined) blocks[0].cache_control = cache;
  return blocks;
}

/**
 * Clients that know Anthropic mark cache breakpoints with `cache_control` on a part (an extension
 * several OpenAI-format clients use); it is kept, since caching lowers the cost a lot.
 */
function cacheControl(part: ContentPart): CacheControl | undefined {
  const value = part.cache_control as { type?: unknown; ttl?: unknown } | undefined;
  if (value === null || typeof value !== 'object' || value.type !== 'ephemeral') return undefined;
  return value.ttl === '5m' || value.ttl === '1h' ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' };
}

function imageBlock(part: ContentPart, path: string): ImageBlockParam {
  const url = (part.image_url as { url?: unknown } | undefined)?.url;
  if (typeof url !== 'string') throw invalid(`${path}.image_url.url`, 'An image part needs image_url.url.');
  const block: ImageBlockParam = { type: 'image', source: imageSource(url, `${path}.image_url.url`) };
  const cache = cacheControl(part);
  if (cache !== undefined) block.cache_control = cache;
  return block;
}

function imageSource(url: string, path: string): ImageBlockParam['source'] {
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  const data = parseDataUrl(url, path);
  if (!IMAGE_TYPES.has(data.mediaType)) {
    throw invalid(path, `Anthropic takes images as image/jpeg, image/png, image/gif or image/webp, not ${data.mediaType}.`);
  }
  return { type: 'base64', media_type: data.mediaType as ImageMediaType, data: data.base64 };
}

/** OpenAI's file part with inline data; Anthropic reads PDFs as document blocks. */
function documentBlock(part: ContentPart, path: string): DocumentBlockParam {
  const file = part.file as { file_data?: unknown; file_id?: unknown } | undefined;
  if (typeof file?.file_data !== 'string') {
    throw invalid(`${path}.file`, 'Anthropic deployments take files only inline, as file.file_data (a data: URL of a PDF); file_id is not supported.');
  }
  const data = parseDataUrl(file.file_data, `${path}.file.file_data`);
  if (data.mediaType !== 'application/pdf') throw invalid(`${path}.file.file_data`, `Anthropic reads PDF files only, not ${data.mediaType}.`);
  return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data.base64 } };
}

function parseDataUrl(url: string, path: string): { mediaType: string; base64: string } {
  const match = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (match === null) throw invalid(path, 'Expected an http(s) URL or a data: URL.');
  const parameters = match[2]!.toLowerCase().split(';');
  if (!parameters.includes('base64')) throw invalid(path, 'A data: URL must be base64-encoded (";base64,").');
  return { mediaType: match[1]!.trim().toLowerCase(), base64: match[3]! };
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}
