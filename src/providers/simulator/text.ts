import type { ChatMessage, ContentPart } from '../../core/types.js';
import { seededRandom } from '../../sim/random.js';

/**
 * Deterministic text for the simulator: the same prompt (and seed) always gives the same words,
 * so tests and benchmarks can compare answers exactly. No model, no network.
 */

const WORDS = (
  'the signal box sets points and signals so every train reaches its track safely ' +
  'requests travel from clients through the gateway to models on cloud services or own servers ' +
  'each answer is counted in tokens money energy and carbon while keys budgets and limits hold'
).split(' ');

/** FNV-1a, 32 bit: a cheap, stable hash for seeding. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The pieces (one per token) of an answer of `count` tokens for this seed. */
export function answerTokens(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'signal';
    tokens.push(i === 0 ? word[0]!.toUpperCase() + word.slice(1) : ' ' + word);
  }
  if (count > 0) tokens[count - 1] += '.';
  return tokens;
}

export function partText(content: string | ContentPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) if (part.type === 'text' && typeof part.text === 'string') text += part.text;
  return text;
}

/** All text a prompt carries, for seeding and for counting its tokens. */
export function promptText(messages: readonly ChatMessage[]): string {
  let text = '';
  for (const message of messages) {
    text += message.role + ':' + partText(message.content) + '\n';
    if (message.tool_calls) for (const call of message.tool_calls) text += call.function.name + call.function.arguments;
  }
  return text;
}

/** A rough token count (about four characters a token, as OpenAI's guidance for English has it). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Cuts `text` before the first stop sequence; tells whether one was found. */
export function applyStop(text: string, stop: string | string[] | null | undefined): { text: string; stopped: boolean } {
  if (stop === null || stop === undefined) return { text, stopped: false };
  let cut = -1;
  for (const sequence of typeof stop === 'string' ? [stop] : stop) {
    if (sequence.length === 0) continue;
    const at = text.indexOf(sequence);
    if (at !== -1 && (cut === -1 || at < cut)) cut = at;
  }
  return cut === -1 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/** Example arguments for a function call, shaped by its JSON schema's top-level properties. */
export function exampleArguments(parameters: Record<string, unknown> | undefined): string {
  const properties = (parameters?.properties ?? {}) as Record<string, { type?: unknown; enum?: unknown[] }>;
  const args: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (Array.isArray(schema.enum) && schema.enum.length > 0) args[name] = schema.enum[0];
    else if (schema.type === 'number' || schema.type === 'integer') args[name] = 1;
    else if (schema.type === 'boolean') args[name] = true;
    else if (schema.type === 'array') args[name] = [];
    else if (schema.type === 'object') args[name] = {};
    else args[name] = 'example';
  }
  return JSON.stringify(args);
}
