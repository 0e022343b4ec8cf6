import { GatewayError, toGatewayError } from '../../core/errors.js';
import type { ChatChunk, ChunkToolCall, FinishReason, Usage } from '../../core/types.js';
import type { EventStream } from '../../providers/types.js';
import type { RequestContext } from '../../server/request-context.js';
import { anthropicErrorBody } from './errors.js';
import { anthropicUsage, messageId, stopReasonOf } from './translate-response.js';
import type { AnthropicUsage, StreamEvent } from '../../providers/anthropic/wire.js';
import { observeStreamChunk } from '../../accounting/request.js';
import { drained } from '../../server/drain.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export interface StreamWriterOptions {
  readonly stopSequences: readonly string[];
  /** The input tokens `message_start` reports, before the upstream's real count is known. */
  readonly inputTokensEstimate: number;
  /** Used for the message id and tool-call ids when the upstream gives none. */
  readonly requestId: string;
  readonly model: string;
}

/** One server-sent event in Anthropic's framing. */
export function sseEvent(event: StreamEvent | { type: 'error' }, data: string = JSON.stringify(event)): string {
  return `event: ${event.type}\ndata: ${data}\n\n`;
}

/**
 * Turns canonical chunks into Anthropic's stream events: `message_start` on the first chunk, one
 * content block per run of text and per tool call (keyed by the tool call's index), each closed
 * before the next opens, and at the end `message_delta` (stop reason, usage) and `message_stop`.
 *
 * Usage is known only at the end for most upstreams: `message_start` carries the estimated input
 * tokens and 0 output tokens; `message_delta` carries the upstream's numbers (input included,
 * which Anthropic's SDKs take over). Pure: returns text, writes nothing.
 */
export class AnthropicStreamWriter {
  private started = false;
  private blocks = 0;
  /** Index of the open content block, -1 when none. */
  private openBlock = -1;
  private openIsText = false;
  /** Content block of each canonical tool call index. */
  private readonly toolBlocks = new Map<number, number>();
  private finish: FinishReason | null = null;
  private upstreamStop: unknown = null;
  private refused = false;
  private sawToolCalls = false;
  usage: Usage | null = null;

  constructor(private readonly options: StreamWriterOptions) {}

  /** The events for one canonical chunk ('' when it has nothing the client sees). */
  push(chunk: ChatChunk): string {
    let out = this.started ? '' : this.start(chunk.id, chunk.model);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      // The canonical request never asks for n > 1; only the first choice is the message.
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content !== '') out += this.text(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        this.refused = true;
        out += this.text(delta.refusal);
      }
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) out += this.toolCall(call);
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        this.finish = choice.finish_reason;
        this.upstreamStop = choice.stop_reason;
      }
    }
    return out;
  }

  /** The closing events, once the canonical stream has ended. */
  end(): string {
    let out = this.started ? '' : this.start(undefined, undefined);
    out += this.closeBlock();
    const stop = stopReasonOf(this.refused ? 'content_filter' : this.finish, this.upstreamStop, this.options.stopSequences, this.sawToolCalls);
    // Without an upstream count, the output is reported as 0 and message_start's input estimate stands.
    const usage: AnthropicUsage = this.usage === null ? { input_tokens: this.options.inputTokensEstimate, output_tokens: 0 } : anthropicUsage(this.usage);
    out += sseEvent({ type: 'message_delta', delta: stop, usage });
    out += sseEvent({ type: 'message_stop' });
    return out;
  }

  private start(id: unknown, model: unknown): string {
    this.started = true;
    const message = {
      id: messageId(typeof id === 'string' && id !== '' ? id : this.options.requestId),
      type: 'message' as const,
      role: 'assistant' as const,
      model: typeof model === 'string' && model !== '' ? model : this.options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.options.inputTokensEstimate, output_tokens: 0 },
    };
    return sseEvent({ type: 'message_start', message });
  }

  private text(text: string): string {
    let out = '';
    if (!this.openIsText) {
      out += this.closeBlock();
      out += this.openBlockWith({ type: 'text', text: '' }, true);
    }
    return out + sseEvent({ type: 'content_block_delta', index: this.openBlock, delta: { type: 'text_delta', text } });
  }

  private toolCall(call: ChunkToolCall): string {
    const index = typeof call.index === 'number' ? call.index : 0;
    const args = call.function?.arguments;
    let out = '';
    let block = this.toolBlocks.get(index);
    if (block === undefined) {
      this.sawToolCalls = true;
      out += this.closeBlock();
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${this.options.requestId}_${index}`;
      out += this.openBlockWith({ type: 'tool_use', id, name: call.function?.name ?? '', input: {} }, false);
      block = this.openBlock;
      this.toolBlocks.set(index, block);
    } else if (block !== this.openBlock) {
      // Anthropic's blocks come one after another; a closed one cannot take more input.
      if (typeof args === 'string' && args !== '') {
        throw new GatewayError('upstream_bad_response', {
          message: 'The upstream interleaved the arguments of several tool calls, which Anthropic\'s stream format cannot carry.',
        });
      }
      return out;
    }
    if (typeof args === 'string' && args !== '') {
      out += sseEvent({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: args } });
    }
    return out;
  }

  private openBlockWith(block: Extract<StreamEvent, { type: 'content_block_start' }>['content_block'], isText: boolean): string {
    this.openBlock = this.blocks++;
    this.openIsText = isText;
    return sseEvent({ type: 'content_block_start', index: this.openBlock, content_block: block });
  }

  private closeBlock(): string {
    if (this.openBlock === -1) return '';
    const index = this.openBlock;
    this.openBlock = -1;
    this.openIsText = false;
    return sseEvent({ type: 'content_block_stop', index });
  }
}

/**
 * Sends a started canonical stream as Anthropic server-sent events: one write per upstream chunk,
 * pulling the next only when the client's socket has drained (backpressure up to the upstream).
 * A failure after the first byte ends the stream with an `event: error` in Anthropic's error
 * shape, never a hang; a client that left ends it quietly (499 in the log).
 */
export async function writeAnthropicStream(ctx: RequestContext, events: EventStream<ChatChunk>, writer: AnthropicStreamWriter): Promise<void> {
  const res = ctx.res;
  ctx.status = 200;
  ctx.headers.writeHead(res, 200, SSE_HEADERS);
  try {
    for await (const event of events) {
      observeStreamChunk(ctx, event.value);
      const text = writer.push(event.value);
      if (writer.usage !== null) ctx.usage = writer.usage;
      if (text === '') continue;
      if (ctx.ttftMs === null) ctx.ttftMs = ctx.elapsedMs();
      if (!res.write(text)) await drained(ctx);
    }
    res.end(writer.end());
  } catch (thrown) {
    const error = toGatewayError(thrown);
    ctx.error = error;
    if (error.code === 'client_closed_request' || res.destroyed) {
      ctx.status = 499;
      return;
    }
    res.end(sseEvent({ type: 'error' }, anthropicErrorBody(error)));
  }
}
