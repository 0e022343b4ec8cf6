/**
 * What the Gemini/Vertex emulator answers: deterministic GenerateContentResponses (whole, and as
 * the chunks of a stream), pure functions of the request and the model id, shaped as Google
 * shapes them (candidates with `index`, `usageMetadata` on every chunk, cumulative; a function
 * call sent whole; the finishReason with the last piece).
 */

type Json = Record<string, unknown>;

/** The text of candidate `index` about `subject`. */
export function chatAnswer(subject: string, index = 0): string {
  return `Echo[${index}]: ${subject}`;
}

export function jsonAnswer(subject: string, index = 0): string {
  return JSON.stringify({ echo: subject, candidate: index });
}

export function toolArguments(subject: string, name: string): Json {
  return { tool: name, query: subject };
}

/** The thought signature the `thinking` model gives a function call of `name`. */
export function thoughtSignatureFor(name: string): string {
  return Buffer.from(`signature-of-${name}`, 'utf8').toString('base64');
}

export const THOUGHT = 'Considering which signal to set.';
export const CACHED_TOKENS = 2;

/** Words with their trailing space: the pieces a stream sends. */
export function streamPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export function countTokens(text: string): number {
  return streamPieces(text).length;
}

/** The text of one content's parts: texts joined by spaces, `[media]` for media, function results as JSON. */
export function partsText(parts: readonly Json[]): string {
  return parts
    .map((part) => {
      if (typeof part.text === 'string') return part.text;
      if (part.inlineData !== undefined || part.fileData !== undefined) return '[media]';
      if (part.functionResponse !== undefined) return JSON.stringify((part.functionResponse as Json).response);
      if (part.functionCall !== undefined) return JSON.stringify((part.functionCall as Json).args ?? {});
      return '';
    })
    .filter((text) => text.length > 0)
    .join(' ');
}

/** What the answer is about: the last user turn's text. */
export function subjectOf(contents: readonly Json[]): string {
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i]!;
    if (content.role !== 'model') return partsText(content.parts as Json[]);
  }
  return '';
}

interface PlannedCandidate {
  /** Text pieces in stream order (empty for a function call). */
  readonly pieces: string[];
  readonly calls: Json[];
  readonly finishReason: string;
  readonly tokens: number;
}

export interface GeminiPlan {
  readonly whole: Json;
  readonly chunks: Json[];
}

/** The function to call, or null for a text answer: the first declared (or allowed) one, unless mode NONE or a result just came in. */
export function plannedCall(body: Json): string | null {
  const declarations = ((body.tools as Json[] | undefined) ?? []).flatMap((tool) => (tool.functionDeclarations as Json[] | undefined) ?? []);
  const config = ((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined) ?? {};
  const mode = (config.mode as string | undefined) ?? 'AUTO';
  if (declarations.length === 0 || mode === 'NONE') return null;
  const contents = body.contents as Json[];
  const last = contents[contents.length - 1]!;
  const answered = (last.parts as Json[]).some((part) => part.functionResponse !== undefined);
  if (answered && mode !== 'ANY') return null;
  const allowed = config.allowedFunctionNames as string[] | undefined;
  const chosen = declarations.find((declaration) => allowed === undefined || allowed.includes(declaration.name as string));
  return (chosen?.name as string | undefined) ?? null;
}

function planCandidates(body: Json, model: string): PlannedCandidate[] {
  const config = (body.generationConfig as Json | undefined) ?? {};
  const subject = subjectOf(body.contents as Json[]);
  const count = (config.candidateCount as number | undefined) ?? 1;
  const call = plannedCall(body);
  const out: PlannedCandidate[] = [];
  for (let index = 0; index < count; index++) {
    if (call !== null) {
      const args = toolArguments(subject, call);
      out.push({ pieces: [], calls: [{ name: call, args }], finishReason: 'STOP', tokens: countTokens(JSON.stringify(args)) + 1 });
      continue;
    }
    const full = config.responseMimeType === 'application/json' ? jsonAnswer(subject, index) : chatAnswer(subject, index);
    let pieces = streamPieces(cutAtStop(full, config.stopSequences as string[] | undefined));
    let finishReason = 'STOP';
    const limit = config.maxOutputTokens as number | undefined;
    if (limit !== undefined && pieces.length > limit) {
      pieces = pieces.slice(0, limit);
      finishReason = 'MAX_TOKENS';
    }
    if (model === 'safety') {
      pieces = pieces.slice(0, 1);
      finishReason = 'SAFETY';
    }
    out.push({ pieces, calls: [], finishReason, tokens: pieces.length });
  }
  return out;
}

function cutAtStop(text: string, stops: readonly string[] | undefined): string {
  let cut = text.length;
  for (const stop of stops ?? []) {
    const at = text.indexOf(stop);
    if (at !== -1 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}

function promptTokens(body: Json): number {
  let tokens = 0;
  const system = body.systemInstruction as Json | undefined;
  if (system !== undefined) tokens += countTokens(partsText(system.parts as Json[])) + 1;
  for (const content of body.contents as Json[]) tokens += countTokens(partsText(content.parts as Json[])) + 1;
  return tokens;
}

function responseId(body: Json): string {
  let h = 0x811c9dc5;
  const text = JSON.stringify(body.contents);
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `emu-${(h >>> 0).toString(36)}`;
}

function usage(prompt: number, candidates: number, thinking: boolean): Json {
  const thoughts = thinking ? countTokens(THOUGHT) : 0;
  const out: Json = { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates + thoughts };
  if (thinking) {
    out.thoughtsTokenCount = thoughts;
    out.cachedContentTokenCount = CACHED_TOKENS;
  }
  return out;
}

/** Per-piece log probabilities, as Google reports them when `responseLogprobs` is set. */
function logprobsOf(pieces: readonly string[], body: Json): Json | null {
  const config = (body.generationConfig as Json | undefined) ?? {};
  if (config.responseLogprobs !== true) return null;
  const top = (config.logprobs as number | undefined) ?? 0;
  const chosen = pieces.map((piece, k) => ({ token: piece, logProbability: -(k + 1) / 8 }));
  const result: Json = { chosenCandidates: chosen };
  if (top > 0) {
    result.topCandidates = chosen.map((one) => ({
      candidates: [one, ...Array.from({ length: top - 1 }, (_, k) => ({ token: `alt${k}`, logProbability: one.logProbability - (k + 1) }))],
    }));
  }
  return result;
}

function callParts(calls: readonly Json[], thinking: boolean): Json[] {
  return calls.map((call, index) => {
    const part: Json = { functionCall: call };
    if (thinking && index === 0) part.thoughtSignature = thoughtSignatureFor(call.name as string);
    return part;
  });
}

/** The whole answer and the stream chunks for a sane request to `model`. */
export function planGenerate(body: Json, model: string): GeminiPlan {
  const base = { modelVersion: model, responseId: responseId(body) };
  const prompt = promptTokens(body);
  const thinking = model.startsWith('thinking');
  if (model === 'blocked') {
    const blocked = { promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt }, ...base };
    return { whole: blocked, chunks: [blocked] };
  }
  const candidates = planCandidates(body, model);
  const output = candidates.reduce((sum, candidate) => sum + candidate.tokens, 0);
  const whole = {
    candidates: candidates.map((candidate, index) => {
      const parts: Json[] = [];
      if (thinking) parts.push({ text: THOUGHT, thought: true });
      if (candidate.pieces.length > 0) parts.push({ text: candidate.pieces.join('') });
      parts.push(...callParts(candidate.calls, thinking));
      const entry: Json = { content: { role: 'model', parts }, finishReason: candidate.finishReason, index };
      const logprobs = logprobsOf(candidate.pieces, body);
      if (logprobs !== null) entry.logprobsResult = logprobs;
      return entry;
    }),
    usageMetadata: usage(prompt, output, thinking),
    ...base,
  };
  return { whole, chunks: streamChunks(body, candidates, prompt, thinking, base) };
}

function streamChunks(body: Json, candidates: readonly PlannedCandidate[], prompt: number, thinking: boolean, base: Json): Json[] {
  const chunks: Json[] = [];
  let emitted = 0;
  if (thinking) {
    chunks.push({
      candidates: candidates.map((_, index) => ({ content: { role: 'model', parts: [{ text: THOUGHT, thought: true }] }, index })),
      usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt },
      ...base,
    });
  }
  const steps = Math.max(1, ...candidates.map((candidate) => candidate.pieces.length));
  for (let step = 0; step < steps; step++) {
    const entries: Json[] = [];
    candidates.forEach((candidate, index) => {
      const last = step === Math.max(0, candidate.pieces.length - 1);
      const parts: Json[] = [];
      const piece = candidate.pieces[step];
      if (piece !== undefined) parts.push({ text: piece });
      if (step === 0) parts.push(...callParts(candidate.calls, thinking));
      if (parts.length === 0 && !last) return;
      emitted += piece !== undefined ? 1 : step === 0 ? candidate.tokens : 0;
      const entry: Json = { content: { role: 'model', parts }, index };
      if (parts.length === 0) delete entry.content;
      if (last) entry.finishReason = candidate.finishReason;
      const logprobs = piece === undefined ? null : logprobsOf([piece], body);
      if (logprobs !== null) entry.logprobsResult = logprobs;
      entries.push(entry);
    });
    const done = step === steps - 1;
    const metadata = done ? usage(prompt, emitted, thinking) : { promptTokenCount: prompt, candidatesTokenCount: emitted, totalTokenCount: prompt + emitted };
    chunks.push({ candidates: entries, usageMetadata: metadata, ...base });
  }
  return chunks;
}
