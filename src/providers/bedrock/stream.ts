import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChunkChoice, Usage } from '../../core/types.js';
import type { StreamEvent } from '../types.js';
import { finishReason, usageOf, type AnswerMeta, type ConverseUsage } from './chat.js';
import { streamExceptionError } from './errors.js';
import type { StreamFrame } from './event-stream.js';

/**
 * ConverseStream events → OpenAI chat.completion.chunk objects:
 *
 *   messageStart                         → delta {role: "assistant", content: ""}
 *   contentBlockStart {toolUse}          → delta.tool_calls [{index, id, type, function {name, arguments: ""}}]
 *   contentBlockDelta {text}             → delta.content
 *   contentBlockDelta {toolUse.input}    → delta.tool_calls [{index, function {arguments}}]
 *   messageStop {stopReason}             → finish_reason
 *   metadata {usage}                     → {choices: [], usage}
 *
 * Tool calls are numbered in the order they start, whatever their content block index.
 */
export class ConverseChunkTranslator {
  private readonly toolIndex = new Map<number, number>();
  private started = false;
  private stopped = false;
  private usage: Usage | null = null;

  constructor(
    private readonly meta: AnswerMeta,
    private readonly secrets: readonly string[] = [],
  ) {}

  /** The chunks one frame makes (often none); an exception frame throws. */
  translate(frame: StreamFrame): ChatChunk[] {
    if (frame.kind === 'exception') throw streamExceptionError(frame.type, frame.message, this.secrets);
    const payload = frame.payload;
    switch (frame.type) {
      case 'messageStart':
        return this.start();
      case 'contentBlockStart':
        return this.blockStart(payload);
      case 'contentBlockDelta':
        return this.blockDelta(payload);
      case 'messageStop':
        this.stopped = true;
        return [...this.start(), this.chunk({}, finishReason(payload.stopReason))];
      case 'metadata':
        this.usage = usageOf(payload.usage as ConverseUsage | undefined);
        return [{ ...this.base(), choices: [], usage: this.usage }];
      default:
        // contentBlockStop and events added to the API later carry nothing a chunk could say.
        return [];
    }
  }

  /** Throws when the stream ended before the answer was whole (no stop, or no usage after it). */
  finish(): void {
    if (!this.stopped) {
      throw new GatewayError('upstream_error', { message: 'The upstream ended its stream before the answer was complete.' });
    }
    if (this.usage === null) {
      throw new GatewayError('upstream_error', { message: 'The upstream ended its stream without reporting token usage.' });
    }
  }

  private start(): ChatChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' }, null)];
  }

  private blockStart(payload: Record<string, unknown>): ChatChunk[] {
    const toolUse = (payload.start as { toolUse?: { toolUseId?: unknown; name?: unknown } } | undefined)?.toolUse;
    if (toolUse === undefined) return [];
    if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') {
      throw new GatewayError('upstream_bad_response', { message: 'The upstream started a tool call without an id or name.' });
    }
    const index = this.toolIndex.size;
    this.toolIndex.set(blockIndex(payload), index);
    const call = { index, id: toolUse.toolUseId, type: 'function' as const, function: { name: toolUse.name, arguments: '' } };
    return [...this.start(), this.chunk({ tool_calls: [call] }, null)];
  }

  private blockDelta(payload: Record<string, unknown>): ChatChunk[] {
    const delta = payload.delta as { text?: unknown; toolUse?: { input?: unknown } } | undefined;
    if (typeof delta?.text === 'string') {
      return [...this.start(), this.chunk({ content: delta.text }, null)];
    }
    if (delta?.toolUse !== undefined) {
      const index = this.toolIndex.get(blockIndex(payload));
      if (index === undefined) {
        throw new GatewayError('upstream_bad_response', { message: 'The upstream sent tool input for a tool call it never started.' });
      }
      const input = typeof delta.toolUse.input === 'string' ? delta.toolUse.input : '';
      return [this.chunk({ tool_calls: [{ index, function: { arguments: input } }] }, null)];
    }
    // Reasoning, citations and other deltas have no place in a Chat Completions chunk.
    return [];
  }

  private base(): Pick<ChatChunk, 'id' | 'object' | 'created' | 'model'> {
    return { id: this.meta.id, object: 'chat.completion.chunk', created: this.meta.created, model: this.meta.model };
  }

  private chunk(delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason']): ChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
  }
}

function blockIndex(payload: Record<string, unknown>): number {
  return typeof payload.contentBlockIndex === 'number' ? payload.contentBlockIndex : 0;
}

/** The chunks of a whole ConverseStream answer, pulled frame by frame. */
export async function* converseChunks(
  frames: AsyncIterable<StreamFrame>,
  meta: AnswerMeta,
  secrets: readonly string[],
): AsyncGenerator<StreamEvent<ChatChunk>> {
  const translator = new ConverseChunkTranslator(meta, secrets);
  for await (const frame of frames) {
    for (const chunk of translator.translate(frame)) yield { value: chunk, raw: null };
  }
  translator.finish();
}
