import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChunkChoice, ChunkToolCall, Usage } from '../../core/types.js';
import { scrub } from '../http/upstream-errors.js';
import type { EventStream, StreamEvent } from '../types.js';
import { finishReason, splitContent, toolCallArguments, toUsage } from './chat.js';
import type { MistralChunk, MistralToolCall } from './wire.js';

type Json = Record<string, unknown>;

/** What the translator remembers of one choice of the answer. */
interface ChoiceState {
  roleSent: boolean;
  /** OpenAI tool-call index of each Mistral tool-call id seen. */
  readonly toolIndex: Map<string, number>;
  lastToolIndex: number;
}

/**
 * Turns Mistral's stream chunks into OpenAI's: a first delta with the role, content deltas,
 * tool calls as OpenAI streams them (Mistral sends each call whole, in one delta: here it becomes
 * a start with id, type, name and empty arguments, then the arguments), a chunk with the mapped
 * finish_reason, and — since Mistral puts usage on its last chunk beside the finish — always a
 * separate final usage chunk `{choices: [], usage}`. Thinking chunks of reasoning models become
 * `reasoning_content` deltas.
 */
export class MistralStreamTranslator {
  private readonly choices = new Map<number, ChoiceState>();
  private usage: Usage | null = null;
  private head: { id: string; created: number; model: string } | null = null;

  constructor(
    private readonly now: number,
    private readonly secrets: readonly string[],
  ) {}

  /** The OpenAI chunks for one Mistral chunk (none, one or several). */
  translate(value: unknown): ChatChunk[] {
    const chunk = checkChunk(value, this.secrets);
    this.head ??= { id: chunk.id, created: chunk.created ?? this.now, model: chunk.model };
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = toUsage(chunk.usage);
    const out: ChatChunk[] = [];
    for (const choice of chunk.choices) {
      const state = this.stateOf(choice.index);
      const emit = (delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null) =>
        out.push(this.chunk([{ index: choice.index, delta, finish_reason: finish, logprobs: null }]));
      if (!state.roleSent) {
        state.roleSent = true;
        emit({ role: 'assistant', content: '' });
      }
      const delta = choice.delta ?? {};
      const { text, reasoning } = splitContent(delta.content);
      if (reasoning !== null && reasoning.length > 0) emit({ reasoning_content: reasoning });
      if (text !== null && text.length > 0) emit({ content: text });
      for (const call of delta.tool_calls ?? []) for (const part of toolCallDeltas(call, state)) emit({ tool_calls: [part] });
      const finish = finishReason(choice.finish_reason);
      if (finish !== null) emit({}, finish);
    }
    return out;
  }

  /** The closing usage chunk (zeros if Mistral reported none, which it always does). */
  finish(): ChatChunk {
    return { ...this.chunk([]), usage: this.usage ?? toUsage(null) };
  }

  private stateOf(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { roleSent: false, toolIndex: new Map(), lastToolIndex: -1 };
      this.choices.set(index, state);
    }
    return state;
  }

  private chunk(choices: ChunkChoice[]): ChatChunk {
    const head = this.head ?? { id: '', created: this.now, model: '' };
    return { id: head.id, object: 'chat.completion.chunk', created: head.created, model: head.model, choices };
  }
}

/** A new call (an id not seen before) starts with its name; what follows is argument text. */
function toolCallDeltas(call: MistralToolCall, state: ChoiceState): ChunkToolCall[] {
  const args = toolCallArguments(call.function?.arguments);
  const id = call.id !== undefined && call.id !== 'null' ? call.id : undefined;
  const known = id === undefined ? undefined : state.toolIndex.get(id);
  if (id !== undefined && known === undefined) {
    const index = ++state.lastToolIndex;
    state.toolIndex.set(id, index);
    const start: ChunkToolCall = { index, id, type: 'function', function: { name: call.function?.name ?? '', arguments: '' } };
    return args.length > 0 ? [start, { index, function: { arguments: args } }] : [start];
  }
  if (args.length === 0) return [];
  return [{ index: known ?? Math.max(state.lastToolIndex, 0), function: { arguments: args } }];
}

/** A Mistral chunk, or the error Mistral sends in its stream (`{"object": "error", "message": …}`). */
function checkChunk(value: unknown, secrets: readonly string[]): MistralChunk {
  const record = value !== null && typeof value === 'object' ? (value as Json) : null;
  if (record?.object === 'error') {
    const message = typeof record.message === 'string' ? scrub(record.message, secrets) : 'The upstream reported an error in its stream.';
    throw new GatewayError('upstream_error', { message, upstreamCode: record.code == null ? null : String(record.code) });
  }
  if (record === null || typeof record.id !== 'string' || !Array.isArray(record.choices)) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event that is not a Mistral chunk.' });
  }
  return record as unknown as MistralChunk;
}

/** Translates a parsed Mistral event stream, chunk by chunk, then adds the usage chunk. */
export async function* chatChunks(events: EventStream<unknown>, now: number, secrets: readonly string[]): AsyncGenerator<StreamEvent<ChatChunk>> {
  const translator = new MistralStreamTranslator(now, secrets);
  for await (const event of events) {
    for (const chunk of translator.translate(event.value)) yield { value: chunk, raw: null };
  }
  yield { value: translator.finish(), raw: null };
}
