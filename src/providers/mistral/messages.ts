import { createHash } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ContentPart, ToolCall } from '../../core/types.js';
import type { MistralContentChunk, MistralMessage, MistralToolCall } from './wire.js';

type Json = Record<string, unknown>;

const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Mistral accepts only tool-call ids of exactly 9 letters and digits; ids made by other providers
 * (OpenAI's `call_…`, Anthropic's `toolu_…`) in a conversation that moved to Mistral are refused.
 * Such an id is replaced by 9 characters derived from it (SHA-256, base62), the same in the
 * assistant's call and in the tool's answer, so the pair still matches. Mistral's own ids, which
 * is what clients see in Mistral's answers, pass unchanged.
 */
export function mistralToolCallId(id: string): string {
  if (MISTRAL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += BASE62[digest[i]! % 62];
  return out;
}

/**
 * Rebuilds the conversation with the fields Mistral's message types have and nothing else:
 * developer messages become system messages; `name` on user, system and assistant messages, and
 * fields of earlier answers (`refusal`, `annotations`, `audio`, `reasoning_content`) are dropped,
 * since Mistral refuses any field it does not know.
 */
export function toMistralMessages(messages: readonly ChatMessage[]): MistralMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, index) => {
    const where = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textContent(message.content, where) };
      case 'user':
        return { role: 'user', content: userContent(message.content, where) };
      case 'assistant':
        return assistantMessage(message, where, toolNames);
      case 'tool':
        return toolMessage(message, where, toolNames);
      default:
        throw invalid(
          `${where}: role "${message.role}" is not supported by Mistral${message.role === 'function' ? ' (legacy function calling); use tools' : ''}.`,
          `${where}.role`,
        );
    }
  });
}

function assistantMessage(message: ChatMessage, where: string, toolNames: Map<string, string>): MistralMessage {
  const out: Extract<MistralMessage, { role: 'assistant' }> = { role: 'assistant' };
  const calls = message.tool_calls ?? [];
  if (message.content !== undefined && message.content !== null) out.content = textContent(message.content, where);
  else if (calls.length === 0) out.content = '';
  if (calls.length > 0) out.tool_calls = calls.map((call, index) => toolCall(call, `${where}.tool_calls[${index}]`, toolNames));
  // Mistral's continuation of a started answer; a Mistral-only field that clients may send.
  if (typeof message.prefix === 'boolean') out.prefix = message.prefix;
  return out;
}

function toolCall(call: ToolCall, where: string, toolNames: Map<string, string>): MistralToolCall {
  if (call.type !== 'function' || typeof call.function?.name !== 'string') {
    throw invalid(`${where}: only function tool calls can be sent to Mistral.`, where);
  }
  const id = mistralToolCallId(String(call.id));
  toolNames.set(id, call.function.name);
  return { id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments ?? '' } };
}

function toolMessage(message: ChatMessage, where: string, toolNames: Map<string, string>): MistralMessage {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id.length === 0) {
    throw invalid(`${where}: a tool message needs its tool_call_id.`, `${where}.tool_call_id`);
  }
  const id = mistralToolCallId(message.tool_call_id);
  const out: Extract<MistralMessage, { role: 'tool' }> = { role: 'tool', content: textContent(message.content, where), tool_call_id: id };
  // Mistral's tool message names the function; OpenAI's does not, so it is taken from the call.
  const name = toolNames.get(id) ?? (typeof message.name === 'string' ? message.name : undefined);
  if (name !== undefined) out.name = name;
  return out;
}

/** Text only (system, tool and assistant messages): a string, or text parts as text chunks. */
function textContent(content: ChatMessage['content'], where: string): string | MistralContentChunk[] {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, index) => {
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    throw invalid(`${where}.content[${index}]: a "${part.type}" part is not possible in this message for Mistral; send text.`, `${where}.content[${index}].type`);
  });
}

/** A user message: text, images (data: and http(s) URLs, as Mistral takes them) and audio. */
function userContent(content: ChatMessage['content'], where: string): string | MistralContentChunk[] {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, index) => userPart(part, `${where}.content[${index}]`));
}

function userPart(part: ContentPart, where: string): MistralContentChunk {
  if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
  if (part.type === 'image_url') {
    const image = (part as Json).image_url as Json | string | undefined;
    const url = typeof image === 'string' ? image : image?.url;
    if (typeof url !== 'string' || url.length === 0) throw invalid(`${where}: image_url.url is required.`, `${where}.image_url.url`);
    const detail = typeof image === 'object' && typeof image.detail === 'string' ? image.detail : undefined;
    return { type: 'image_url', image_url: detail === undefined ? { url } : { url, detail } };
  }
  if (part.type === 'input_audio') {
    // OpenAI: {input_audio: {data, format}}; Mistral: {input_audio: "<base64>"}.
    const audio = (part as Json).input_audio as Json | undefined;
    if (typeof audio?.data !== 'string') throw invalid(`${where}: input_audio.data is required.`, `${where}.input_audio.data`);
    return { type: 'input_audio', input_audio: audio.data };
  }
  throw invalid(`${where}: content parts of type "${part.type}" are not supported by Mistral.`, `${where}.type`);
}

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}
