import { setTimeout as sleep } from 'node:timers/promises';
import { abortReason, asAbortSignal } from '../http/abort.js';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  CompletionsRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  Usage,
} from '../../core/types.js';
import type { CompletionObject, EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import type { SimulatorDeployment } from './config.js';
import { seededRandom } from '../../sim/random.js';
import { answerTokens, applyStop, estimateTokens, exampleArguments, hash32, promptText } from './text.js';

/** One planned choice: words to say, or a function to call. */
type PlannedChoice =
  | { readonly kind: 'text'; readonly tokens: readonly string[]; readonly finish: FinishReason }
  | { readonly kind: 'tool'; readonly call: ToolCall };

interface Plan {
  readonly choices: readonly PlannedChoice[];
  readonly usage: Usage;
  /** Tokens the longest choice emits, which sets how long the answer takes. */
  readonly steps: number;
}

/**
 * An in-process model for trying Stellwerk out and for benchmarks: deterministic answers,
 * configurable time to first token and tokens per second, no network. It calls the first tool
 * when tools are offered (unless `tool_choice` is "none" or the last message is a tool result),
 * so agent loops can be tried offline too.
 */
export class SimulatorAdapter implements ProviderAdapter {
  constructor(private readonly config: SimulatorDeployment) {}

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const plan = this.plan(request);
    await this.wait(this.config.ttft_ms + this.tokenTime(plan.steps), call);
    const response: ChatResponse = {
      id: `chatcmpl-sim-${call.requestId}`,
      object: 'chat.completion',
      created: nowSeconds(),
      model: this.config.model,
      choices: plan.choices.map((choice, index) =>
        choice.kind === 'text'
          ? { index, message: { role: 'assistant', content: choice.tokens.join('') }, finish_reason: choice.finish, logprobs: null }
          : { index, message: { role: 'assistant', content: null, tool_calls: [choice.call] }, finish_reason: 'tool_calls', logprobs: null },
      ),
      usage: plan.usage,
    };
    return { value: response, raw: null };
  }

  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const plan = this.plan(request);
    await this.wait(this.config.ttft_ms, call);
    return this.chunks(plan, call);
  }

  async embeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const inputs = embeddingInputs(request.input);
    const dimensions = request.dimensions ?? this.config.embedding_dimensions;
    let tokens = 0;
    const data = inputs.map((input, index) => {
      tokens += estimateTokens(input);
      const vector = unitVector(hash32(input), dimensions);
      const embedding = request.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding' as const, index, embedding };
    });
    await this.wait(this.config.ttft_ms, call);
    const value: EmbeddingsResponse = {
      object: 'list',
      data,
      model: this.config.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
    return { value, raw: null };
  }

  async completions(request: CompletionsRequest, call: UpstreamCall): Promise<Parsed<CompletionObject>> {
    const plan = this.planCompletion(request, call);
    await this.wait(this.config.ttft_ms + this.tokenTime(plan.tokens.length), call);
    const value: CompletionObject = {
      ...plan.base,
      choices: [{ index: 0, text: plan.tokens.join(''), finish_reason: 'length', logprobs: null }],
      usage: plan.usage,
    };
    return { value, raw: null };
  }

  async completionsStream(request: CompletionsRequest, call: UpstreamCall): Promise<EventStream<CompletionObject>> {
    const plan = this.planCompletion(request, call);
    await this.wait(this.config.ttft_ms, call);
    return this.completionChunks(plan, call);
  }

  private planCompletion(request: CompletionsRequest, call: UpstreamCall) {
    const prompt = typeof request.prompt === 'string' ? request.prompt : JSON.stringify(request.prompt ?? '');
    const tokens = answerTokens(hash32(prompt), limitOf(request.max_tokens) ?? this.config.output_tokens);
    const promptTokens = estimateTokens(prompt);
    return {
      tokens,
      base: { id: `cmpl-sim-${call.requestId}`, object: 'text_completion', created: nowSeconds(), model: this.config.model },
      usage: { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length },
    };
  }

  private async *completionChunks(plan: ReturnType<SimulatorAdapter['planCompletion']>, call: UpstreamCall): AsyncGenerator<Parsed<CompletionObject>> {
    const pause = this.tokenTime(1);
    for (let step = 0; step < plan.tokens.length; step++) {
      if (step > 0) await this.wait(pause, call);
      const last = step === plan.tokens.length - 1;
      yield { value: { ...plan.base, choices: [{ index: 0, text: plan.tokens[step], finish_reason: last ? 'length' : null, logprobs: null }] }, raw: null };
    }
    yield { value: { ...plan.base, choices: [], usage: plan.usage }, raw: null };
  }

  async close(): Promise<void> {}

  private plan(request: ChatRequest): Plan {
    const prompt = promptText(request.messages);
    const seed = hash32(prompt, request.seed == null ? undefined : request.seed >>> 0);
    const limit = limitOf(request.max_completion_tokens) ?? limitOf(request.max_tokens);
    // A limit above the simulator's natural answer length does not lengthen it (as with a real model).
    const count = limit === null ? this.config.output_tokens : Math.min(limit, this.config.output_tokens);
    const n = Math.max(1, request.n ?? 1);
    const tool = this.toolToCall(request);
    const choices: PlannedChoice[] = [];
    let completionTokens = 0;
    let steps = 0;
    for (let index = 0; index < n; index++) {
      if (tool !== null) {
        const call: ToolCall = {
          id: `call_sim_${(seed + index).toString(36)}`,
          type: 'function',
          function: { name: tool.name, arguments: exampleArguments(tool.parameters) },
        };
        choices.push({ kind: 'tool', call });
        const tokens = estimateTokens(call.function.arguments) + 1;
        completionTokens += tokens;
        steps = Math.max(steps, tokens);
        continue;
      }
      const words = answerTokens(seed + index, count);
      const stopped = applyStop(words.join(''), request.stop);
      const tokens = stopped.stopped ? tokensUpTo(words, stopped.text) : words;
      choices.push({ kind: 'text', tokens, finish: stopped.stopped || limit === null || limit >= this.config.output_tokens ? 'stop' : 'length' });
      completionTokens += tokens.length;
      steps = Math.max(steps, tokens.length);
    }
    const promptTokens = estimateTokens(prompt);
    return {
      choices,
      steps,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  private toolToCall(request: ChatRequest): { name: string; parameters?: Record<string, unknown> } | null {
    const tools = request.tools?.filter((tool) => tool.type === 'function' && tool.function !== undefined) ?? [];
    const choice = request.tool_choice;
    if (tools.length === 0 || choice === 'none') return null;
    if (choice !== null && typeof choice === 'object' && choice.function?.name) {
      const named = tools.find((tool) => tool.function!.name === choice.function!.name);
      if (named) return named.function!;
    }
    const last = request.messages[request.messages.length - 1];
    if (choice !== 'required' && last?.role === 'tool') return null;
    return tools[0]!.function!;
  }

  private async *chunks(plan: Plan, call: UpstreamCall): AsyncGenerator<Parsed<ChatChunk>> {
    const base = { id: `chatcmpl-sim-${call.requestId}`, object: 'chat.completion.chunk' as const, created: nowSeconds(), model: this.config.model };
    const chunk = (choices: ChatChunk['choices'], usage?: Usage): Parsed<ChatChunk> => ({
      value: usage === undefined ? { ...base, choices } : { ...base, choices, usage },
      raw: null,
    });
    yield chunk(plan.choices.map((_, index) => ({ index, delta: { role: 'assistant', content: '' }, finish_reason: null })));
    const pause = this.tokenTime(1);
    for (let step = 0; step < plan.steps; step++) {
      if (step > 0) await this.wait(pause, call);
      for (let index = 0; index < plan.choices.length; index++) {
        const choice = plan.choices[index]!;
        if (choice.kind === 'text') {
          const token = choice.tokens[step];
          if (token !== undefined) yield chunk([{ index, delta: { content: token }, finish_reason: null }]);
        } else if (step === 0) {
          const { id, function: fn } = choice.call;
          yield chunk([{ index, delta: { tool_calls: [{ index: 0, id, type: 'function', function: { name: fn.name, arguments: '' } }] }, finish_reason: null }]);
          yield chunk([{ index, delta: { tool_calls: [{ index: 0, function: { arguments: fn.arguments } }] }, finish_reason: null }]);
        }
      }
    }
    yield chunk(
      plan.choices.map((choice, index) => ({ index, delta: {}, finish_reason: choice.kind === 'text' ? choice.finish : 'tool_calls' })),
    );
    yield chunk([], plan.usage);
  }

  private tokenTime(tokens: number): number {
    const rate = this.config.tokens_per_second;
    return rate === 0 ? 0 : (tokens * 1000) / rate;
  }

  private async wait(ms: number, call: UpstreamCall): Promise<void> {
    if (call.signal.aborted) throw abortReason(call.signal);
    if (ms <= 0) return;
    try {
      await sleep(ms, undefined, { signal: asAbortSignal(call.signal) });
    } catch {
      throw abortReason(call.signal);
    }
  }
}

function limitOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
}

function tokensUpTo(words: readonly string[], text: string): string[] {
  const out: string[] = [];
  let length = 0;
  for (const word of words) {
    if (length + word.length > text.length) {
      const rest = text.slice(length);
      if (rest.length > 0) out.push(rest);
      break;
    }
    out.push(word);
    length += word.length;
  }
  return out;
}

function embeddingInputs(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [JSON.stringify(input)];
  return (input as (string | number[])[]).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

function unitVector(seed: number, dimensions: number): number[] {
  const random = seededRandom(seed);
  const vector = Array.from({ length: dimensions }, () => random() - 0.5);
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum) || 1;
  return vector.map((value) => value / norm);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
