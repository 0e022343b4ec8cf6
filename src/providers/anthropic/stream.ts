import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChunkChoice, FinishReason } from '../../core/types.js';
import type { StreamEvent as Parsed } from '../types.js';
import { finishReason, toUsage } from './chat.js';
import { streamErrorEvent } from './errors.js';
import { Utf8Chunks } from '../http/utf8-chunks.js';
import type { AnthropicUsage, StreamEvent } from './wire.js';

export interface EventReaderOptions {
  /** Turns whatever interrupted reading into a GatewayError (abort reasons, timeouts, broken sockets). */
  readonly failure: (error: unknown) => GatewayError;
  /** Scrubbed from an upstream error event before it reaches the client. */
  readonly secrets: readonly string[];
}

/**
 * Reads Anthropic's `text/event-stream` body as typed events, one network chunk at a time (the
 * next chunk is pulled only when the consumer wants the next event: backpressure reaches the
 * upstream). An `error` event is thrown as a GatewayError; the stream is complete at
 * `message_stop`, and a body that ends before it was cut off.
 */
export async function* anthropicEvents(body: AsyncIterable<Buffer | Uint8Array>, options: EventReaderOptions): AsyncGenerator<StreamEvent> {
  const decoder = new Utf8Chunks();
  let pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => void pending.push(event) });
  let complete = false;
  try {
    // After message_stop the rest of the body is still read (normally nothing) so that the
    // connection ends cleanly and goes back to the keep-alive pool.
    for await (const chunk of body) {
      if (complete) continue;
      parser.feed(decoder.decode(chunk));
      if (pending.length === 0) continue;
      const events = pending;
      pending = [];
      for (const message of events) {
        const event = parseEvent(message, options.secrets);
        if (event === null) continue;
        yield event;
        if (event.type === 'message_stop') {
          complete = true;
          break;
        }
      }
    }
  } catch (error) {
    throw options.failure(error);
  } finally {
    destroyBody(body);
  }
  if (!complete) throw new GatewayError('upstream_error', { message: 'The upstream ended its stream before the answer was complete.' });
}

function parseEvent(message: EventSourceMessage, secrets: readonly string[]): StreamEvent | null {
  if (message.data.length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(message.data);
  } catch {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event that is not JSON.' });
  }
  if (value === null || typeof value !== 'object' || typeof (value as { type?: unknown }).type !== 'string') {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event without a type.' });
  }
  const event = value as StreamEvent;
  if (event.type === 'error' || message.event === 'error') throw streamErrorEvent(value, secrets);
  return event;
}

function destroyBody(body: unknown): void {
  const destroy = (body as { destroy?: () => void }).destroy;
  if (typeof destroy === 'function') destroy.call(body);
}

type BlockState =
  | { readonly kind: 'text' }
  | { readonly kind: 'tool'; readonly index: number; sentArguments: boolean; readonly startInput: string }
  | { readonly kind: 'other' };

/**
 * Turns Anthropic's stream events into OpenAI chunks, one event at a time: the role first, text
 * deltas as content, each tool_use block as a tool call (id and name with arguments '' first,
 * then the input JSON fragments), the finish reason at `message_stop`, then the usage chunk.
 * Thinking blocks and unknown events are passed over; `ping` says nothing.
 */
export class ChunkTranslator {
  private id = '';
  private model = '';
  private usage: AnthropicUsage = {};
  private stopReason: string | null = null;
  private readonly blocks = new Map<number, BlockState>();
  private toolCalls = 0;
  private done = false;
  private roleSent = false;

  constructor(private readonly created: number) {}

  /** True once `message_stop` was seen. */
  get complete(): boolean {
    return this.done;
  }

  /**
   * The role chunk is held back until the first content (or the finish): the gateway commits to
   * a stream at its first chunk, so an error event right after message_start can still be retried.
   */
  accept(event: StreamEvent): ChatChunk[] {
    const chunks = this.translate(event);
    if (chunks.length === 0 || this.roleSent) return chunks;
    this.roleSent = true;
    return [this.chunk({ role: 'assistant', content: '' }), ...chunks];
  }

  private translate(event: StreamEvent): ChatChunk[] {
    switch (event.type) {
      case 'message_start':
        this.id = event.message.id;
        this.model = event.message.model;
        this.usage = { ...event.message.usage };
        return [];
      case 'content_block_start':
        return this.startBlock(event.index, event.content_block);
      case 'content_block_delta':
        return this.delta(event.index, event.delta);
      case 'content_block_stop':
        return this.stopBlock(event.index);
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.mergeUsage(event.usage);
        return [];
      case 'message_stop':
        this.done = true;
        return [this.chunk({}, finishReason(this.stopReason)), { ...this.base(), choices: [], usage: toUsage(this.usage) }];
      default:
        return [];
    }
  }

  private startBlock(index: number, block: Extract<StreamEvent, { type: 'content_block_start' }>['content_block']): ChatChunk[] {
    if (block.type === 'text') {
      this.blocks.set(index, { kind: 'text' });
      return typeof block.text === 'string' && block.text.length > 0 ? [this.chunk({ content: block.text })] : [];
    }
    if (block.type !== 'tool_use') {
      this.blocks.set(index, { kind: 'other' });
      return [];
    }
    const call = this.toolCalls++;
    const input = block.input;
    // The input arrives as deltas and is {} here; should a complete input ever come in the start instead, it is kept.
    const startInput = input !== null && typeof input === 'object' && Object.keys(input).length > 0 ? JSON.stringify(input) : '';
    this.blocks.set(index, { kind: 'tool', index: call, sentArguments: false, startInput });
    return [this.chunk({ tool_calls: [{ index: call, id: String(block.id), type: 'function', function: { name: String(block.name), arguments: '' } }] })];
  }

  private delta(index: number, delta: Extract<StreamEvent, { type: 'content_block_delta' }>['delta']): ChatChunk[] {
    const state = this.blocks.get(index);
    if (state?.kind === 'text' && delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) {
      return [this.chunk({ content: delta.text })];
    }
    if (state?.kind === 'tool' && delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json.length > 0) {
      state.sentArguments = true;
      return [this.chunk({ tool_calls: [{ index: state.index, function: { arguments: delta.partial_json } }] })];
    }
    return [];
  }

  /** A tool without parameters streams no input fragment; OpenAI clients parse the arguments, so they get "{}". */
  private stopBlock(index: number): ChatChunk[] {
    const state = this.blocks.get(index);
    if (state?.kind !== 'tool' || state.sentArguments) return [];
    state.sentArguments = true;
    return [this.chunk({ tool_calls: [{ index: state.index, function: { arguments: state.startInput || '{}' } }] })];
  }

  /** message_delta usage is cumulative; input counts appear there only on some API versions. */
  private mergeUsage(usage: AnthropicUsage | undefined): void {
    if (usage === undefined || usage === null) return;
    for (const [key, value] of Object.entries(usage)) if (value !== null && value !== undefined) this.usage[key] = value;
  }

  private base(): Pick<ChatChunk, 'id' | 'object' | 'created' | 'model'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(delta: ChunkChoice['delta'], finish: FinishReason | null = null): ChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}

/** The OpenAI chunks of an Anthropic event stream; each is built here, so none has raw text. */
export async function* chatChunks(events: AsyncIterable<StreamEvent>, created: number): AsyncGenerator<Parsed<ChatChunk>> {
  const translator = new ChunkTranslator(created);
  for await (const event of events) {
    for (const chunk of translator.accept(event)) yield { value: chunk, raw: null };
  }
}
