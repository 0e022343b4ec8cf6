/**
 * The deterministic answers of the Anthropic emulator, exported so that tests can compute what
 * a request must produce. Everything follows from the request alone: no clock, no randomness.
 */

import { hash32 } from './openai-answers.js';

type Json = Record<string, unknown>;

/** The readable text of a message's content: text joined by spaces, a marker per image or document. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const block of content as Json[]) {
    if (block.type === 'text' && typeof block.text === 'string') parts.push(block.text);
    else if (block.type === 'image') parts.push('[image]');
    else if (block.type === 'document') parts.push('[document]');
    else if (block.type === 'tool_result') parts.push(contentText(block.content));
  }
  return parts.join(' ');
}

/** What the answer is about: the text of the last user turn (a tool result's text included). */
export function subjectOf(messages: readonly Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') return contentText(messages[i]!.content);
  }
  return '';
}

export function answerText(subject: string): string {
  return `Echo: ${subject}`;
}

export function jsonAnswer(subject: string): string {
  return JSON.stringify({ echo: subject });
}

export function toolInput(subject: string, name: string): Json {
  return { tool: name, query: subject };
}

export function toolUseId(subject: string, name: string, index: number): string {
  return `toolu_${hash32(`${subject}\u0000${name}`).toString(36)}${index}`;
}

/** The pieces a stream sends text in: words with their trailing space. */
export function streamPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Tool input JSON in the fragments Anthropic streams it in (a few characters each). */
export function jsonFragments(json: string, size = 7): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

export function countTokens(text: string): number {
  return streamPieces(text).length;
}

/** The thinking text of the `with-thinking` model. */
export const THINKING = 'The signal box considers the track.';
export const PREAMBLE = 'Let me check that. ';
export const REFUSAL_TEXT = 'I cannot help with that.';
/** Cache numbers the `cached` model reports. */
export const CACHED = { read: 1200, write: 300 } as const;

/** The tool_use blocks an answer makes, or [] when it answers with text. */
export function plannedToolUses(body: Json): Json[] {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const choice = (body.tool_choice ?? { type: 'auto' }) as Json;
  if (tools.length === 0 || choice.type === 'none') return [];
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1];
  const answersTool = last?.role === 'user' && Array.isArray(last.content) && (last.content as Json[]).some((block) => block.type === 'tool_result');
  if (answersTool && choice.type === 'auto') return [];
  let chosen = tools;
  if (choice.type === 'tool') chosen = tools.filter((tool) => tool.name === choice.name);
  else if (choice.disable_parallel_tool_use === true) chosen = tools.slice(0, 1);
  const subject = subjectOf(messages);
  return chosen.map((tool, index) => {
    const name = tool.name as string;
    return { type: 'tool_use', id: toolUseId(subject, name, index), name, input: toolInput(subject, name) };
  });
}

/** Cuts text at the first stop sequence it contains. */
function applyStop(text: string, stops: unknown): { text: string; stop: string | null } {
  if (!Array.isArray(stops)) return { text, stop: null };
  let cut = -1;
  let which: string | null = null;
  for (const stop of stops as string[]) {
    const at = text.indexOf(stop);
    if (at !== -1 && (cut === -1 || at < cut)) {
      cut = at;
      which = stop;
    }
  }
  return cut === -1 ? { text, stop: null } : { text: text.slice(0, cut), stop: which };
}

function inputTokens(body: Json): number {
  let tokens = countTokens(contentText(body.system)) + 1;
  for (const message of body.messages as Json[]) tokens += countTokens(contentText(message.content)) + 1;
  return tokens;
}

/** The whole answer (a Message) to a sane request for `model`. */
export function planMessage(body: Json, model: string): Json {
  const messages = body.messages as Json[];
  const subject = subjectOf(messages);
  const toolUses = plannedToolUses(body);
  const content: Json[] = [];
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  let output = 0;
  if (model === 'with-thinking') content.push({ type: 'thinking', thinking: THINKING, signature: 'c2lnbmF0dXJl' });
  if (model === 'refusal') {
    content.push({ type: 'text', text: REFUSAL_TEXT, citations: null });
    stopReason = 'refusal';
    output = countTokens(REFUSAL_TEXT);
  } else if (toolUses.length > 0) {
    if (model === 'with-preamble') content.push({ type: 'text', text: PREAMBLE, citations: null });
    content.push(...toolUses.map((use) => ({ ...use, caller: { type: 'direct' } })));
    stopReason = 'tool_use';
    output = toolUses.reduce((sum, use) => sum + jsonFragments(JSON.stringify(use.input)).length, 0);
  } else {
    const format = (body.output_config as Json | undefined)?.format;
    const full = format !== undefined ? jsonAnswer(subject) : answerText(subject);
    const stopped = applyStop(full, body.stop_sequences);
    let pieces = streamPieces(stopped.text);
    if (stopped.stop !== null) {
      stopReason = 'stop_sequence';
      stopSequence = stopped.stop;
    }
    const limit = body.max_tokens as number;
    if (pieces.length > limit) {
      pieces = pieces.slice(0, limit);
      stopReason = 'max_tokens';
      stopSequence = null;
    }
    content.push({ type: 'text', text: pieces.join(''), citations: null });
    output = pieces.length;
  }
  const thinkingTokens = model === 'with-thinking' ? countTokens(THINKING) : 0;
  return {
    id: `msg_emu_${hash32(JSON.stringify(body)).toString(36)}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopSequence,
    container: null,
    usage: {
      input_tokens: inputTokens(body),
      cache_creation_input_tokens: model === 'cached' ? CACHED.write : 0,
      cache_read_input_tokens: model === 'cached' ? CACHED.read : 0,
      output_tokens: output + thinkingTokens,
      output_tokens_details: model === 'with-thinking' ? { thinking_tokens: thinkingTokens } : null,
      service_tier: 'standard',
    },
  };
}

/**
 * The stream events of a Message, as the API sends them: message_start (empty content, partial
 * usage), a ping, each block opened empty, filled by deltas and closed, then message_delta
 * (stop reason, output tokens) and message_stop. `extraPieces` more text pieces for slow streams.
 */
export function streamEvents(message: Json, extraPieces = 0): Json[] {
  const usage = message.usage as Json;
  const events: Json[] = [
    {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1, output_tokens_details: null } },
    },
    { type: 'ping' },
  ];
  (message.content as Json[]).forEach((block, index) => {
    events.push(...blockEvents(block, index, extraPieces));
  });
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
      usage: { output_tokens: usage.output_tokens, output_tokens_details: usage.output_tokens_details },
    },
    { type: 'message_stop' },
  );
  return events;
}

function blockEvents(block: Json, index: number, extraPieces: number): Json[] {
  const delta = (value: Json) => ({ type: 'content_block_delta', index, delta: value });
  const events: Json[] = [];
  if (block.type === 'text') {
    events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } });
    for (const piece of streamPieces(block.text as string)) events.push(delta({ type: 'text_delta', text: piece }));
    for (let i = 0; i < extraPieces; i++) events.push(delta({ type: 'text_delta', text: ` more${i}` }));
  } else if (block.type === 'tool_use') {
    events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
    events.push(delta({ type: 'input_json_delta', partial_json: '' }));
    for (const fragment of jsonFragments(JSON.stringify(block.input))) events.push(delta({ type: 'input_json_delta', partial_json: fragment }));
  } else if (block.type === 'thinking') {
    events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    for (const piece of streamPieces(block.thinking as string)) events.push(delta({ type: 'thinking_delta', thinking: piece }));
    events.push(delta({ type: 'signature_delta', signature: block.signature }));
  }
  events.push({ type: 'content_block_stop', index });
  return events;
}
