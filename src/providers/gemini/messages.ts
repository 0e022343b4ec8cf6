import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ContentPart, ToolCall } from '../../core/types.js';
import type { GeminiContent, GeminiPart } from './wire.js';

/**
 * OpenAI chat messages → Google `contents` and `systemInstruction`.
 *
 * - system and developer messages become `systemInstruction` (Google has one, so several are
 *   joined in order, wherever they stood);
 * - user → role `user`; assistant → role `model`, its tool_calls → `functionCall` parts;
 * - tool results → `functionResponse` parts of a `user` turn, named after the call they answer
 *   (Google matches results to calls by name and order, OpenAI by id);
 * - consecutive turns of the same role are merged, as Google expects results of parallel calls
 *   in one turn.
 */

export interface TranslatedMessages {
  readonly contents: GeminiContent[];
  readonly systemInstruction: GeminiContent | undefined;
}

/**
 * Sent when a tool call comes back without the thought signature Gemini gave it (a client that
 * dropped `extra_content`, or history from another model): Google documents this value for
 * exactly that case, and Gemini 3 refuses a tool turn whose first call has no signature at all.
 */
export const SIGNATURE_FALLBACK = 'skip_thought_signature_validator';

export function toGeminiContents(messages: readonly ChatMessage[]): TranslatedMessages {
  const contents: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  const toolNames = new Map<string, string>();
  messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        for (const text of textsOf(message.content, where)) system.push({ text });
        return;
      case 'user':
        append(contents, 'user', userParts(message.content, where));
        return;
      case 'assistant':
        append(contents, 'model', assistantParts(message, where, toolNames));
        return;
      case 'tool':
        append(contents, 'user', [toolResultPart(message, where, toolNames)]);
        return;
      default:
        throw invalid(`${where}.role`, `The role "${String(message.role)}" is not supported for Google models; use "tool" messages for function results.`);
    }
  });
  if (contents.length === 0) throw invalid('messages', 'At least one user or assistant message is needed besides system messages.');
  return { contents, systemInstruction: system.length > 0 ? { parts: system } : undefined };
}

function append(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last !== undefined && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function userParts(content: ChatMessage['content'], where: string): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw invalid(`${where}.content`, 'The content must be a string or an array of parts.');
  return content.map((part, index) => userPart(part, `${where}.content[${index}]`));
}

function userPart(part: ContentPart, where: string): GeminiPart {
  switch (part.type) {
    case 'text':
      return { text: stringField(part.text, `${where}.text`) };
    case 'image_url': {
      const url = (part.image_url as { url?: unknown } | undefined)?.url;
      return mediaPart(stringField(url, `${where}.image_url.url`), `${where}.image_url.url`, 'image/jpeg');
    }
    case 'input_audio': {
      const audio = part.input_audio as { data?: unknown; format?: unknown } | undefined;
      const format = stringField(audio?.format, `${where}.input_audio.format`);
      return { inlineData: { mimeType: `audio/${format}`, data: stringField(audio?.data, `${where}.input_audio.data`) } };
    }
    case 'file': {
      const file = part.file as { file_data?: unknown; file_id?: unknown } | undefined;
      if (typeof file?.file_data !== 'string') {
        throw invalid(`${where}.file`, 'Only files sent inline as "file_data" (a data: URL) are supported for Google models.');
      }
      return mediaPart(file.file_data, `${where}.file.file_data`, 'application/pdf');
    }
    default:
      throw invalid(`${where}.type`, `The content part type "${part.type}" is not supported for Google models.`);
  }
}

/**
 * A media reference: a data URL is sent inline; an http(s) or gs:// URL goes as `fileData`,
 * which needs a MIME type, guessed from the file name (`fallback` when it says nothing).
 */
function mediaPart(url: string, where: string, fallback: string): GeminiPart {
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
    if (match === null) throw invalid(where, 'The data URL is malformed.');
    const mimeType = match[1] || fallback;
    const base64 = match[2]!.toLowerCase().split(';').includes('base64');
    const data = base64 ? match[3]!.replace(/\s+/g, '') : Buffer.from(decodeURIComponent(match[3]!), 'utf8').toString('base64');
    return { inlineData: { mimeType, data } };
  }
  if (/^(https?|gs):\/\//i.test(url)) return { fileData: { fileUri: url, mimeType: mimeFromName(url) ?? fallback } };
  throw invalid(where, 'Use a data: URL, an http(s):// URL or a gs:// URI.');
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  txt: 'text/plain',
};

/** The MIME type a URL's file extension suggests (query and fragment aside), or null. */
export function mimeFromName(url: string): string | null {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // keep the text as it is
  }
  const match = /\.([A-Za-z0-9]+)$/.exec(path);
  return match === null ? null : (MIME_BY_EXTENSION[match[1]!.toLowerCase()] ?? null);
}

function assistantParts(message: ChatMessage, where: string, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = textsOf(message.content, where).map((text) => ({ text }));
  const calls = message.tool_calls ?? [];
  if (!Array.isArray(calls)) throw invalid(`${where}.tool_calls`, 'tool_calls must be an array.');
  calls.forEach((call, index) => {
    const at = `${where}.tool_calls[${index}]`;
    const name = stringField(call?.function?.name, `${at}.function.name`);
    if (typeof call.id === 'string') toolNames.set(call.id, name);
    const part: GeminiPart = { functionCall: { name, args: parseArguments(call.function.arguments, `${at}.function.arguments`) } };
    const signature = thoughtSignatureOf(call);
    if (signature !== null) part.thoughtSignature = signature;
    else if (index === 0) part.thoughtSignature = SIGNATURE_FALLBACK;
    parts.push(part);
  });
  return parts;
}

/** Where Google's own OpenAI-compatible API puts a tool call's thought signature, and so do we. */
export function thoughtSignatureOf(call: ToolCall): string | null {
  const extra = call.extra_content as { google?: { thought_signature?: unknown } } | undefined;
  const signature = extra?.google?.thought_signature;
  return typeof signature === 'string' && signature.length > 0 ? signature : null;
}

function parseArguments(text: unknown, where: string): Record<string, unknown> {
  if (text === undefined || text === null || text === '') return {};
  if (typeof text !== 'string') throw invalid(where, 'The arguments must be a JSON string.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(where, 'The arguments are not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(where, 'The arguments must be a JSON object.');
  return value as Record<string, unknown>;
}

/**
 * A tool result as a `functionResponse`: a JSON object result is sent as the response itself,
 * anything else as `{"result": text}` (Google wants an object there).
 */
function toolResultPart(message: ChatMessage, where: string, toolNames: Map<string, string>): GeminiPart {
  const id = message.tool_call_id;
  const name = typeof id === 'string' ? toolNames.get(id) : undefined;
  if (name === undefined) {
    throw invalid(`${where}.tool_call_id`, 'A tool message must answer a tool call of an earlier assistant message (no call has this id).');
  }
  const text = textsOf(message.content, where).join('');
  let response: Record<string, unknown> = { result: text };
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) response = parsed as Record<string, unknown>;
  } catch {
    // not JSON: sent as text
  }
  return { functionResponse: { name, response } };
}

/** The texts of a content that may only hold text (system, assistant, tool). */
function textsOf(content: ChatMessage['content'], where: string): string[] {
  if (typeof content === 'string') return content.length > 0 ? [content] : [];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw invalid(`${where}.content`, 'The content must be a string or an array of parts.');
  return content.map((part, index) => {
    const at = `${where}.content[${index}]`;
    if (part.type === 'text') return stringField(part.text, `${at}.text`);
    if (part.type === 'refusal') return stringField(part.refusal, `${at}.refusal`);
    throw invalid(`${at}.type`, `Only text parts are allowed in this message, not "${part.type}".`);
  });
}

function stringField(value: unknown, where: string): string {
  if (typeof value !== 'string') throw invalid(where, 'Expected a string.');
  return value;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { message: `${message} (${param})`, param });
}
