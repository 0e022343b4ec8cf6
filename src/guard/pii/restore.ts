import type { EventStream, StreamEvent } from '../../providers/types.js';
import type { UpstreamResult } from '../../server/request-context.js';
import { restoreText, StreamRestorer, type Pseudonyms } from './pseudonyms.js';

/**
 * Puts the originals back into the upstream's answer, in the canonical (OpenAI) shape, before any
 * respond stage turns it into the client's protocol: message text, tool-call arguments and legacy
 * completion text, whole or streamed.
 */

type Json = Record<string, unknown>;

export function restoreResult(result: UpstreamResult, pseudonyms: Pseudonyms): UpstreamResult {
  if (result.kind === 'stream') return { kind: 'stream', events: restoreStream(result.events, pseudonyms) };
  const value = result.parsed.value as { choices?: Json[] };
  if (!Array.isArray(value?.choices)) return result;
  for (const choice of value.choices) restoreChoice(choice, pseudonyms);
  return { kind: 'json', parsed: { value, raw: null } };
}

function restoreChoice(choice: Json, pseudonyms: Pseudonyms): void {
  if (typeof choice.text === 'string') choice.text = restoreText(choice.text, pseudonyms);
  const message = choice.message as Json | undefined;
  if (message === undefined || message === null) return;
  if (typeof message.content === 'string') message.content = restoreText(message.content, pseudonyms);
  else if (Array.isArray(message.content)) {
    for (const part of message.content as Json[]) if (typeof part?.text === 'string') part.text = restoreText(part.text, pseudonyms);
  }
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    const fn = call.function as Json | undefined;
    if (typeof fn?.arguments === 'string') fn.arguments = restoreText(fn.arguments, pseudonyms, true);
  }
}

/** One restorer per stream of text: a choice's content or text, or one of its tool calls' arguments. */
class ChoiceRestorers {
  private readonly restorers = new Map<string, StreamRestorer>();
  constructor(private readonly pseudonyms: Pseudonyms) {}

  push(key: string, piece: string, json: boolean): string {
    let restorer = this.restorers.get(key);
    if (restorer === undefined) {
      restorer = new StreamRestorer(this.pseudonyms, json);
      this.restorers.set(key, restorer);
    }
    return restorer.push(piece);
  }

  /** Held-back tails of one choice (or all), by key. */
  flush(choice: number | null): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, restorer] of this.restorers) {
      if (choice !== null && !key.startsWith(`${choice}:`)) continue;
      if (restorer.holding) out.set(key, restorer.flush());
    }
    return out;
  }
}

async function* restoreStream(events: EventStream<unknown>, pseudonyms: Pseudonyms): EventStream<unknown> {
  const restorers = new ChoiceRestorers(pseudonyms);
  let last: Json | null = null;
  for await (const event of events) {
    const chunk = event.value as Json;
    const choices = Array.isArray(chunk?.choices) ? (chunk.choices as Json[]) : [];
    if (choices.length === 0) {
      yield event;
      continue;
    }
    last = chunk;
    for (const choice of choices) restoreChunkChoice(choice, restorers);
    yield { value: chunk, raw: null } satisfies StreamEvent<unknown>;
  }
  // A stream that ended without a finish reason: what was held back goes out as it came.
  const rest = restorers.flush(null);
  if (rest.size > 0 && last !== null) yield { value: tailChunk(last, rest), raw: null };
}

function restoreChunkChoice(choice: Json, restorers: ChoiceRestorers): void {
  const index = typeof choice.index === 'number' ? choice.index : 0;
  if (typeof choice.text === 'string') choice.text = restorers.push(`${index}:text`, choice.text, false);
  const delta = choice.delta as Json | undefined;
  if (delta !== undefined && delta !== null) {
    if (typeof delta.content === 'string') delta.content = restorers.push(`${index}:content`, delta.content, false);
    for (const call of Array.isArray(delta.tool_calls) ? (delta.tool_calls as Json[]) : []) {
      const fn = call.function as Json | undefined;
      if (typeof fn?.arguments === 'string') fn.arguments = restorers.push(`${index}:tool:${String(call.index ?? 0)}`, fn.arguments, true);
    }
  }
  if (choice.finish_reason === null || choice.finish_reason === undefined) return;
  for (const [key, tail] of restorers.flush(index)) appendTail(choice, key, tail);
}

/** Adds a held-back tail to the choice that finishes its text (the finish chunk carries it). */
function appendTail(choice: Json, key: string, tail: string): void {
  const [, field, toolIndex] = key.split(':');
  if (field === 'text') {
    choice.text = `${typeof choice.text === 'string' ? choice.text : ''}${tail}`;
    return;
  }
  const delta = (choice.delta ??= {}) as Json;
  if (field === 'content') {
    delta.content = `${typeof delta.content === 'string' ? delta.content : ''}${tail}`;
    return;
  }
  const calls = (delta.tool_calls ??= []) as Json[];
  const index = Number(toolIndex);
  const call = calls.find((item) => item.index === index);
  if (call === undefined) calls.push({ index, function: { arguments: tail } });
  else {
    const fn = (call.function ??= {}) as Json;
    fn.arguments = `${typeof fn.arguments === 'string' ? fn.arguments : ''}${tail}`;
  }
}

function tailChunk(last: Json, rest: Map<string, string>): Json {
  const byChoice = new Map<number, Json>();
  for (const [key, tail] of rest) {
    const index = Number(key.split(':')[0]);
    let choice = byChoice.get(index);
    if (choice === undefined) {
      choice = { index, delta: {}, finish_reason: null };
      byChoice.set(index, choice);
    }
    appendTail(choice, key, tail);
  }
  const { choices: _choices, usage: _usage, ...base } = last;
  return { ...base, choices: [...byChoice.values()] };
}
