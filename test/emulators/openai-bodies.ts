import {
  argumentFragments,
  completionPrompts,
  completionText,
  countTokens,
  embeddingBase64,
  embeddingInputs,
  embeddingVector,
  hash32,
  planChat,
  streamPieces,
  type PlannedChoice,
  type UsageNumbers,
} from './openai-answers.js';

/**
 * The JSON the OpenAI-compatible emulator answers with, shaped as OpenAI's API shapes it: whole
 * answers and the chunks of streamed ones (with `"usage": null` on every chunk and a final
 * usage chunk exactly when `stream_options.include_usage` is true). Pure functions of the request.
 */

type Json = Record<string, unknown>;

/** The `created` of every answer, fixed so that answers compare equal. */
export const CREATED = 1_700_000_000;

function includesUsage(body: Json): boolean {
  return (body.stream_options as Json | undefined)?.include_usage === true;
}

function usageObject(usage: UsageNumbers): Json {
  return {
    ...usage,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function ticks(count: number): string[] {
  return Array.from({ length: count }, (_, k) => ` tick${k + 1}`);
}

// ---------------------------------------------------------------- chat completions

function chatId(body: Json): string {
  return `chatcmpl-emu-${hash32(JSON.stringify(body.messages)).toString(36)}`;
}

export function chatCompletion(body: Json, model: string): Json {
  const plan = planChat(body);
  return {
    id: chatId(body),
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: plan.choices.map((choice, index) => ({
      index,
      message:
        choice.kind === 'text'
          ? { role: 'assistant', content: choice.content, refusal: null, annotations: [] }
          : {
              role: 'assistant',
              content: null,
              refusal: null,
              annotations: [],
              tool_calls: choice.calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
            },
      logprobs: null,
      finish_reason: choice.kind === 'text' ? 'stop' : 'tool_calls',
    })),
    usage: usageObject(plan.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  };
}

/** The chunks of a streamed chat answer; choices interleave step by step, as with OpenAI's `n`. */
export function chatCompletionChunks(body: Json, model: string, extraPieces = 0): Json[] {
  const plan = planChat(body);
  const includeUsage = includesUsage(body);
  const base = { id: chatId(body), object: 'chat.completion.chunk', created: CREATED, model, service_tier: 'default', system_fingerprint: 'fp_emulator' };
  const chunk = (choices: Json[]) => (includeUsage ? { ...base, choices, usage: null } : { ...base, choices });
  const deltas = plan.choices.map((choice) => choiceDeltas(choice, extraPieces));
  const events: Json[] = [];
  for (let step = 0; deltas.some((list) => step < list.length); step++) {
    deltas.forEach((list, index) => {
      const delta = list[step];
      if (delta !== undefined) events.push(chunk([{ index, delta, logprobs: null, finish_reason: null }]));
    });
  }
  plan.choices.forEach((choice, index) =>
    events.push(chunk([{ index, delta: {}, logprobs: null, finish_reason: choice.kind === 'text' ? 'stop' : 'tool_calls' }])),
  );
  if (includeUsage) events.push({ ...base, choices: [], usage: usageObject(plan.usage) });
  return events;
}

/**
 * The deltas of one choice in stream order, as OpenAI sends them: a first delta with the role
 * (and, for a tool call, its id, type, name and empty arguments), then content or argument fragments.
 */
function choiceDeltas(choice: PlannedChoice, extraPieces: number): Json[] {
  if (choice.kind === 'text') {
    const pieces = [...streamPieces(choice.content), ...ticks(extraPieces)];
    return [{ role: 'assistant', content: '', refusal: null }, ...pieces.map((content) => ({ content }))];
  }
  const out: Json[] = [];
  choice.calls.forEach((call, index) => {
    const start = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    out.push(index === 0 ? { role: 'assistant', content: null, tool_calls: [start], refusal: null } : { tool_calls: [start] });
    for (const fragment of argumentFragments(call.arguments)) out.push({ tool_calls: [{ index, function: { arguments: fragment } }] });
  });
  return out;
}

// ---------------------------------------------------------------- legacy completions

interface CompletionPlan {
  readonly texts: readonly string[];
  readonly usage: UsageNumbers;
  readonly base: Json;
}

function planCompletion(body: Json, model: string): CompletionPlan {
  const n = typeof body.n === 'number' && body.n > 1 ? Math.floor(body.n) : 1;
  const prompts = completionPrompts(body.prompt);
  const texts: string[] = [];
  for (const prompt of prompts) for (let i = 0; i < n; i++) texts.push(completionText(prompt, i));
  let completionTokens = 0;
  for (const text of texts) completionTokens += countTokens(text);
  let promptTokens = 0;
  for (const prompt of prompts) promptTokens += countTokens(prompt);
  return {
    texts,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    base: { id: `cmpl-emu-${hash32(JSON.stringify(body.prompt)).toString(36)}`, object: 'text_completion', created: CREATED, model },
  };
}

export function textCompletion(body: Json, model: string): Json {
  const { texts, usage, base } = planCompletion(body, model);
  return { ...base, choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: 'stop' })), usage };
}

export function textCompletionChunks(body: Json, model: string, extraPieces = 0): Json[] {
  const { texts, usage, base } = planCompletion(body, model);
  const includeUsage = includesUsage(body);
  const chunk = (choices: Json[]) => (includeUsage ? { ...base, choices, usage: null } : { ...base, choices });
  const events: Json[] = [];
  texts.forEach((text, index) => {
    for (const piece of [...streamPieces(text), ...ticks(extraPieces)]) {
      events.push(chunk([{ text: piece, index, logprobs: null, finish_reason: null }]));
    }
    events.push(chunk([{ text: '', index, logprobs: null, finish_reason: 'stop' }]));
  });
  if (includeUsage) events.push({ ...base, choices: [], usage });
  return events;
}

// ---------------------------------------------------------------- embeddings

export function embeddingList(body: Json, model: string, defaultDimensions: number): Json {
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : defaultDimensions;
  let tokens = 0;
  const data = embeddingInputs(body.input).map((input, index) => {
    tokens += countTokens(input);
    const vector = embeddingVector(input, dimensions);
    return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? embeddingBase64(vector) : vector };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
