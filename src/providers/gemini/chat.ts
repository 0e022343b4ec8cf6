import { GatewayError } from '../../core/errors.js';
import type { ChatChoice, ChatRequest, ChatResponse, FinishReason, ToolCall, ToolDefinition, Usage } from '../../core/types.js';
import { toGeminiContents } from './messages.js';
import { isEmptyObjectSchema, toGeminiSchema } from './schema.js';
import type {
  GeminiCandidate,
  GeminiFunctionCall,
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiLogprobsResult,
  GeminiPart,
  GeminiThinkingConfig,
  GeminiToolConfig,
  GeminiUsageMetadata,
  GenerateContentRequest,
  GenerateContentResponse,
} from './wire.js';

/** OpenAI Chat Completions request → Google GenerateContentRequest; every field the table in fields.ts maps. */
export function toGenerateContentRequest(request: ChatRequest, model: string): GenerateContentRequest {
  checkModalities(request.modalities);
  const { contents, systemInstruction } = toGeminiContents(request.messages);
  const out: GenerateContentRequest = { contents };
  if (systemInstruction !== undefined) out.systemInstruction = systemInstruction;
  const declarations = functionDeclarations(request.tools, request.tool_choice);
  if (declarations.length > 0) {
    out.tools = [{ functionDeclarations: declarations }];
    const toolConfig = toToolConfig(request.tool_choice);
    if (toolConfig !== undefined) out.toolConfig = toolConfig;
  } else if (request.tool_choice === 'required' || (request.tool_choice !== null && typeof request.tool_choice === 'object')) {
    // Without functions Google would just answer in text: the client asked for a call it cannot get.
    throw invalid('tool_choice', 'tool_choice asks for a function call, but the request offers no functions.');
  }
  const generationConfig = toGenerationConfig(request, model);
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;
  return out;
}

function checkModalities(modalities: ChatRequest['modalities']): void {
  if (modalities === undefined || modalities === null) return;
  if (modalities.some((modality) => modality !== 'text')) {
    throw invalid('modalities', 'Only the "text" output modality is supported for Google models here.');
  }
}

function toGenerationConfig(request: ChatRequest, model: string): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  if (request.stop != null) config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.n != null) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty;
  if (request.logprobs === true) {
    config.responseLogprobs = true;
    if (request.top_logprobs != null) config.logprobs = request.top_logprobs;
  }
  applyResponseFormat(request.response_format, config);
  const thinking = toThinkingConfig(request.reasoning_effort, model);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  return config;
}

function applyResponseFormat(format: ChatRequest['response_format'], config: GeminiGenerationConfig): void {
  if (format === undefined || format === null || format.type === 'text') return;
  if (format.type === 'json_object') {
    config.responseMimeType = 'application/json';
    return;
  }
  if (format.type !== 'json_schema') throw invalid('response_format.type', `The response format "${format.type}" is not supported for Google models.`);
  config.responseMimeType = 'application/json';
  const schema = (format.json_schema as { schema?: unknown } | undefined)?.schema;
  if (schema !== undefined) config.responseSchema = toGeminiSchema(schema, 'response_format.json_schema.schema');
}

/** Thinking budgets (tokens) Google's own OpenAI-compatible API uses for Gemini 2.5's efforts. */
const THINKING_BUDGETS: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 24576 };

/**
 * `reasoning_effort`: Gemini 3 models take a thinking level, earlier thinking models (2.5) a
 * token budget. Which one is decided by the model id, as Google's models name their generation.
 */
function toThinkingConfig(effort: ChatRequest['reasoning_effort'], model: string): GeminiThinkingConfig | undefined {
  if (effort === undefined || effort === null) return undefined;
  const budget = THINKING_BUDGETS[effort];
  if (budget === undefined) throw invalid('reasoning_effort', `Unknown reasoning effort "${effort}".`);
  if (/gemini-[3-9]/.test(model)) {
    const level = effort === 'none' ? 'minimal' : effort === 'xhigh' ? 'high' : effort;
    return { thinkingLevel: level };
  }
  return { thinkingBudget: budget };
}

function functionDeclarations(tools: ToolDefinition[] | undefined, choice: ChatRequest['tool_choice']): GeminiFunctionDeclaration[] {
  if (tools === undefined || tools === null) return [];
  const allowed = allowedToolNames(choice);
  const out: GeminiFunctionDeclaration[] = [];
  tools.forEach((tool, index) => {
    const where = `tools[${index}]`;
    if (tool.type !== 'function' || tool.function === undefined) {
      throw invalid(`${where}.type`, `Only function tools are supported for Google models, not "${String(tool.type)}".`);
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name.length === 0) throw invalid(`${where}.function.name`, 'A function needs a name.');
    if (allowed !== null && !allowed.has(fn.name)) return;
    const declaration: GeminiFunctionDeclaration = { name: fn.name };
    if (fn.description !== undefined) declaration.description = fn.description;
    if (fn.parameters !== undefined) {
      const parameters = toGeminiSchema(fn.parameters, `${where}.function.parameters`);
      // Google refuses an OBJECT without properties; a function without parameters declares none.
      if (!isEmptyObjectSchema(parameters)) declaration.parameters = parameters;
    }
    out.push(declaration);
  });
  return out;
}

interface AllowedToolsChoice {
  type: 'allowed_tools';
  allowed_tools?: { mode?: string; tools?: { function?: { name?: string } }[] };
}

/** `tool_choice: {type: "allowed_tools"}` limits the offered functions; Google gets only those. */
function allowedToolNames(choice: ChatRequest['tool_choice']): Set<string> | null {
  if (choice === null || typeof choice !== 'object' || choice.type !== 'allowed_tools') return null;
  const names = ((choice as AllowedToolsChoice).allowed_tools?.tools ?? []).map((tool) => tool.function?.name);
  return new Set(names.filter((name): name is string => typeof name === 'string'));
}

function toToolConfig(choice: ChatRequest['tool_choice']): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  if (typeof choice === 'object' && choice.type === 'allowed_tools') {
    const mode = (choice as AllowedToolsChoice).allowed_tools?.mode;
    return { functionCallingConfig: { mode: mode === 'required' ? 'ANY' : 'AUTO' } };
  }
  throw invalid('tool_choice', 'Use "auto", "none", "required", or {"type": "function", "function": {"name": …}}.');
}

// ---------------------------------------------------------------- answers

export interface AnswerContext {
  /** The model reported when Google's answer names none. */
  readonly model: string;
  /** For the answer's id when Google's has none. */
  readonly requestId: string;
  /** A fresh tool call id (Google's function calls usually have none). */
  readonly newToolCallId: () => string;
}

/** Google GenerateContentResponse → OpenAI chat.completion. A blocked prompt is a content_filter answer, not an error. */
export function fromGenerateContentResponse(response: GenerateContentResponse, context: AnswerContext): ChatResponse {
  const candidates = response.candidates ?? [];
  const choices: ChatChoice[] = candidates.map((candidate, position) => toChoice(candidate, position, context));
  if (choices.length === 0) {
    // No candidate: the prompt itself was blocked (promptFeedback.blockReason), or nothing came back.
    const blocked = response.promptFeedback?.blockReason !== undefined;
    choices.push({ index: 0, message: { role: 'assistant', content: '' }, finish_reason: blocked ? 'content_filter' : 'stop', logprobs: null });
  }
  const answer: ChatResponse = {
    id: answerId(response, context.requestId),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: response.modelVersion ?? context.model,
    choices,
  };
  answer.usage = toUsage(response.usageMetadata);
  return answer;
}

export function answerId(response: GenerateContentResponse, requestId: string): string {
  return `chatcmpl-${response.responseId ?? requestId}`;
}

function toChoice(candidate: GeminiCandidate, position: number, context: AnswerContext): ChatChoice {
  const parts = candidate.content?.parts ?? [];
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of parts) {
    if (part.thought === true) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    if (part.functionCall !== undefined) toolCalls.push(toToolCall(part.functionCall, part, context.newToolCallId));
  }
  const message: ChatChoice['message'] = { role: 'assistant', content: texts.length > 0 || toolCalls.length === 0 ? texts.join('') : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    index: candidate.index ?? position,
    message,
    finish_reason: toFinishReason(candidate.finishReason, toolCalls.length > 0) ?? 'stop',
    logprobs: toLogprobs(candidate.logprobsResult),
  };
}

/** A function call as an OpenAI tool call; its thought signature travels where Google's OpenAI API puts it. */
export function toToolCall(call: GeminiFunctionCall, part: GeminiPart, newId: () => string): ToolCall {
  const toolCall: ToolCall = {
    id: typeof call.id === 'string' && call.id.length > 0 ? call.id : newId(),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
  if (typeof part.thoughtSignature === 'string') toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return toolCall;
}

const CONTENT_FILTER = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

/** Google's finishReason → OpenAI's; null while the candidate is not finished. */
export function toFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER.has(reason)) return 'content_filter';
  // STOP, and what OpenAI has no word for (OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL…): the answer ended.
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/**
 * Google's usage → OpenAI's. Thinking tokens are output tokens Google counts apart; OpenAI counts
 * them in completion_tokens (and says how many in reasoning_tokens). Cached tokens are part of the
 * prompt in both.
 */
export function toUsage(metadata: GeminiUsageMetadata | undefined): Usage {
  const prompt = (metadata?.promptTokenCount ?? 0) + (metadata?.toolUsePromptTokenCount ?? 0);
  const thoughts = metadata?.thoughtsTokenCount ?? 0;
  const completion = (metadata?.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: metadata?.totalTokenCount ?? prompt + completion };
  if (metadata?.cachedContentTokenCount !== undefined) usage.prompt_tokens_details = { cached_tokens: metadata.cachedContentTokenCount };
  if (metadata?.thoughtsTokenCount !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

interface OpenAiLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** Google's per-token log probabilities → OpenAI's `logprobs.content`. */
export function toLogprobs(result: GeminiLogprobsResult | undefined): { content: OpenAiLogprob[] } | null {
  if (result?.chosenCandidates === undefined) return null;
  const content = result.chosenCandidates.map((chosen, position) => ({
    ...tokenLogprob(chosen.token, chosen.logProbability),
    top_logprobs: (result.topCandidates?.[position]?.candidates ?? []).map((top) => tokenLogprob(top.token, top.logProbability)),
  }));
  return { content };
}

function tokenLogprob(token: string | undefined, logprob: number | undefined): { token: string; logprob: number; bytes: number[] } {
  const text = token ?? '';
  return { token: text, logprob: logprob ?? 0, bytes: [...Buffer.from(text, 'utf8')] };
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', { message: `${message} (${param})`, param });
}
