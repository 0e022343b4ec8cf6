import type { ChatMessage, ChatRequest } from '../../core/types.js';

/**
 * Every text a model-call body sends upstream, as slots that can be read and replaced: message
 * contents of all roles (strings and text parts), tool-call arguments of earlier turns, tool
 * results, legacy prompts and embedding inputs.
 */
export interface TextSlot {
  readonly text: string;
  replace(text: string): void;
}

export function textSlots(body: unknown): TextSlot[] {
  const slots: TextSlot[] = [];
  if (body === null || typeof body !== 'object') return slots;
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.messages)) {
    for (const message of (record as ChatRequest).messages) messageSlots(message, slots);
  }
  if ('prompt' in record) stringOrList(record, 'prompt', slots);
  if ('input' in record) stringOrList(record, 'input', slots);
  return slots;
}

function messageSlots(message: ChatMessage, slots: TextSlot[]): void {
  if (message === null || typeof message !== 'object') return;
  const content = message.content;
  if (typeof content === 'string') {
    slots.push({ text: content, replace: (text) => (message.content = text) });
  } else if (Array.isArray(content)) {
    for (const part of content) {
      if (part !== null && typeof part === 'object' && part.type === 'text' && typeof part.text === 'string') {
        slots.push({ text: part.text, replace: (text) => (part.text = text) });
      }
    }
  }
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    const fn = call?.function;
    if (fn !== undefined && typeof fn.arguments === 'string') slots.push({ text: fn.arguments, replace: (text) => (fn.arguments = text) });
  }
}

function stringOrList(record: Record<string, unknown>, field: string, slots: TextSlot[]): void {
  const value = record[field];
  if (typeof value === 'string') {
    slots.push({ text: value, replace: (text) => (record[field] = text) });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (typeof item === 'string') slots.push({ text: item, replace: (text) => (value[index] = text) });
    });
  }
}
