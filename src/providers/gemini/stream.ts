import type { ChatChunk, ChunkChoice, ChunkToolCall } from '../../core/types.js';
import type { EventStream, Parsed } from '../types.js';
import { answerId, toFinishReason, toLogprobs, toToolCall, toUsage, type AnswerContext } from './chat.js';
import type { GeminiCandidate, GeminiUsageMetadata, GenerateContentResponse } from './wire.js';

/**
 * Google's streamed GenerateContentResponse chunks → OpenAI chat.completion.chunk objects.
 *
 * Each Google chunk carries the next piece of every candidate: text becomes content deltas, a
 * function call (Google sends it whole) becomes a tool-call delta with id, name and empty
 * arguments followed by one with the arguments, a finishReason becomes the finish chunk. Google
 * repeats its (cumulative) usage on chunks; the last one seen becomes the usage chunk at the end.
 */
export class GeminiStreamTranslator {
  private readonly choices = new Map<number, { toolCalls: number }>();
  private id: string | null = null;
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private usage: GeminiUsageMetadata | undefined;

  constructor(private readonly context: AnswerContext) {
    this.model = context.model;
  }

  /** The OpenAI chunks for one Google chunk (possibly none). */
  translate(event: GenerateContentResponse): ChatChunk[] {
    if (this.id === null) {
      this.id = answerId(event, this.context.requestId);
      if (event.modelVersion !== undefined) this.model = event.modelVersion;
    }
    if (event.usageMetadata !== undefined) this.usage = event.usageMetadata;
    const out: ChatChunk[] = [];
    const candidates = event.candidates ?? [];
    candidates.forEach((candidate, position) => this.candidateChunks(candidate, candidate.index ?? position, out));
    if (candidates.length === 0 && event.promptFeedback?.blockReason !== undefined) {
      this.start(0, out);
      out.push(this.chunk([{ index: 0, delta: {}, finish_reason: 'content_filter' }]));
    }
    return out;
  }

  /** The usage chunk that closes every stream. */
  usageChunk(): ChatChunk {
    return { ...this.chunk([]), usage: toUsage(this.usage) };
  }

  private candidateChunks(candidate: GeminiCandidate, index: number, out: ChatChunk[]): void {
    const state = this.start(index, out);
    let logprobs = toLogprobs(candidate.logprobsResult);
    for (const part of candidate.content?.parts ?? []) {
      if (part.thought === true) continue;
      if (typeof part.text === 'string' && part.text.length > 0) {
        const choice: ChunkChoice = { index, delta: { content: part.text }, finish_reason: null };
        if (logprobs !== null) {
          choice.logprobs = logprobs;
          logprobs = null;
        }
        out.push(this.chunk([choice]));
      }
      if (part.functionCall !== undefined) {
        const call = toToolCall(part.functionCall, part, this.context.newToolCallId);
        const toolIndex = state.toolCalls++;
        // The thought signature rides on the opening delta, where OpenAI-format clients keep unknown fields.
        const opening: ChunkToolCall & { extra_content?: unknown } = { index: toolIndex, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } };
        if (call.extra_content !== undefined) opening.extra_content = call.extra_content;
        out.push(this.chunk([{ index, delta: { tool_calls: [opening] }, finish_reason: null }]));
        out.push(this.chunk([{ index, delta: { tool_calls: [{ index: toolIndex, function: { arguments: call.function.arguments } }] }, finish_reason: null }]));
      }
    }
    const finish = toFinishReason(candidate.finishReason, state.toolCalls > 0);
    if (finish !== null) out.push(this.chunk([{ index, delta: {}, finish_reason: finish }]));
  }

  /** The first chunk of a choice says who speaks, as OpenAI's do. */
  private start(index: number, out: ChatChunk[]): { toolCalls: number } {
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { toolCalls: 0 };
      this.choices.set(index, state);
      out.push(this.chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    }
    return state;
  }

  private chunk(choices: ChunkChoice[]): ChatChunk {
    return { id: this.id ?? `chatcmpl-${this.context.requestId}`, object: 'chat.completion.chunk', created: this.created, model: this.model, choices };
  }
}

/** Translates a started Google stream event by event, then sends the usage chunk. */
export async function* geminiChatStream(events: EventStream<GenerateContentResponse>, context: AnswerContext): AsyncGenerator<Parsed<ChatChunk>> {
  const translator = new GeminiStreamTranslator(context);
  for await (const event of events) {
    for (const chunk of translator.translate(event.value)) yield { value: chunk, raw: null };
  }
  yield { value: translator.usageChunk(), raw: null };
}

/** A Google chunk that completes the answer: a finished candidate, or a blocked prompt. */
export function isFinalGeminiEvent(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const event = value as GenerateContentResponse;
  if (event.promptFeedback?.blockReason !== undefined) return true;
  return (event.candidates ?? []).some((candidate) => candidate.finishReason !== undefined && candidate.finishReason !== 'FINISH_REASON_UNSPECIFIED');
}
