import { GatewayError } from '../../core/errors.js';
import type { ChatResponse, FinishReason, Usage } from '../../core/types.js';
import type { AnthropicUsage, Message, StopReason, TextBlock, ToolUseBlock } from '../../providers/anthropic/wire.js';

/** A canonical (OpenAI-shaped) whole answer → an Anthropic message. Only the first choice counts. */
export function toAnthropicMessage(response: ChatResponse, stopSequences: readonly string[]): Message {
  const choice = Array.isArray(response.choices) ? response.choices[0] : undefined;
  if (choice === undefined || choice.message === null || typeof choice.message !== 'object') {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream answered without a choice.' });
  }
  const message = choice.message;
  const content: (TextBlock | ToolUseBlock)[] = [];
  const text = textOf(message.content);
  if (text !== '') content.push({ type: 'text', text });
  const refusal = typeof message.refusal === 'string' && message.refusal !== '' ? message.refusal : null;
  if (refusal !== null) content.push({ type: 'text', text: refusal });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  for (const call of calls) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments, call.function.name) });
  }
  const stop = stopReasonOf(refusal !== null ? 'content_filter' : choice.finish_reason, choice.stop_reason, stopSequences, calls.length > 0);
  return {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model: typeof response.model === 'string' ? response.model : '',
    content,
    stop_reason: stop.stop_reason,
    stop_sequence: stop.stop_sequence,
    usage: response.usage ? anthropicUsage(response.usage) : { input_tokens: 0, output_tokens: 0 },
  };
}

/** Anthropic message ids start with `msg_`; the upstream's id is kept after it, for tracing. */
export function messageId(id: unknown): string {
  const text = typeof id === 'string' && id !== '' ? id : 'unknown';
  return text.startsWith('msg_') ? text : `msg_${text}`;
}

/** The text of an assistant message: a string, or the text parts joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as { type?: unknown; text?: unknown }[]) if (part?.type === 'text' && typeof part.text === 'string') text += part.text;
  return text;
}

/**
 * Tool-call arguments → the `input` object Anthropic's clients expect. Empty arguments are `{}`;
 * arguments that are not a JSON object cannot be expressed as Anthropic's `input` and are the
 * upstream's fault (502), never passed on as a made-up object.
 */
function toolInput(args: unknown, name: string): Record<string, unknown> {
  if (args === undefined || args === null || args === '') return {};
  // A few servers send the arguments already parsed.
  if (typeof args === 'object' && !Array.isArray(args)) return args as Record<string, unknown>;
  if (typeof args === 'string') {
    try {
      const parsed: unknown = JSON.parse(args);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
  }
  throw new GatewayError('upstream_bad_response', { message: `The upstream called the tool "${name}" with arguments that are not a JSON object.` });
}

/**
 * The canonical finish reason → Anthropic's stop reason. `stop` is `stop_sequence` only when the
 * upstream says which stop sequence matched (vLLM and SGLang put it in the choice's `stop_reason`);
 * OpenAI does not, so there it is `end_turn`. An answer with tool calls is `tool_use` whatever
 * the upstream said (some report "stop" for them).
 */
export function stopReasonOf(
  finish: FinishReason | null | undefined,
  upstreamStop: unknown,
  stopSequences: readonly string[],
  hasToolCalls: boolean,
): { stop_reason: StopReason; stop_sequence: string | null } {
  if (hasToolCalls || finish === 'tool_calls' || finish === 'function_call') return { stop_reason: 'tool_use', stop_sequence: null };
  if (finish === 'length') return { stop_reason: 'max_tokens', stop_sequence: null };
  if (finish === 'content_filter') return { stop_reason: 'refusal', stop_sequence: null };
  if (typeof upstreamStop === 'string' && stopSequences.includes(upstreamStop)) return { stop_reason: 'stop_sequence', stop_sequence: upstreamStop };
  return { stop_reason: 'end_turn', stop_sequence: null };
}

/**
 * Canonical usage → Anthropic's. OpenAI's prompt_tokens include the cached ones, Anthropic's
 * input_tokens do not: with cached tokens known, they move to cache_read_input_tokens.
 */
export function anthropicUsage(usage: Usage): AnthropicUsage {
  const prompt = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const output = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached !== 'number') return { input_tokens: prompt, output_tokens: output };
  return { input_tokens: Math.max(0, prompt - cached), output_tokens: output, cache_read_input_tokens: cached };
}
