/**
 * The deterministic answers of the OpenAI-compatible emulator, exported so that tests can compute
 * exactly what a request must produce. Everything is derived from the request alone: no clock,
 * no randomness.
 */

type Json = Record<string, unknown>;

export interface PlannedToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** FNV-1a, 32 bit. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The text of a message's content: a string, or the text parts joined, with a marker per image. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text' && typeof part.text === 'string') parts.push(part.text);
    else if (part?.type === 'image_url') parts.push('[image]');
  }
  return parts.join(' ');
}

/** What the answer is about: the last user (or tool result) message's text. */
export function subjectOf(messages: readonly Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'user' || message.role === 'tool') return contentText(message.content);
  }
  return '';
}

/** The assistant text of choice `index`; JSON when the request asked for a JSON response format. */
export function chatAnswer(subject: string, index = 0, json = false): string {
  if (json) return JSON.stringify({ echo: subject, choice: index });
  return `Echo[${index}]: ${subject}`;
}

/** The tool calls an answer makes, or [] when it answers with text. */
export function plannedToolCalls(body: Json): PlannedToolCall[] {
  const tools = (Array.isArray(body.tools) ? (body.tools as Json[]) : []).filter(
    (tool) => tool.type === 'function' && typeof (tool.function as Json | undefined)?.name === 'string',
  );
  const choice = body.tool_choice;
  if (tools.length === 0 || choice === 'none') return [];
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1];
  if (last?.role === 'tool' && choice !== 'required') return [];
  const subject = subjectOf(messages);
  let chosen = tools;
  if (choice !== null && typeof choice === 'object') {
    const name = ((choice as Json).function as Json | undefined)?.name;
    chosen = tools.filter((tool) => (tool.function as Json).name === name);
  } else if (body.parallel_tool_calls === false) {
    chosen = tools.slice(0, 1);
  }
  return chosen.map((tool, index) => {
    const name = (tool.function as Json).name as string;
    return { id: toolCallId(subject, name, index), name, arguments: toolArguments(subject, name) };
  });
}

export function toolCallId(subject: string, name: string, index: number): string {
  return `call_${hash32(`${subject}\u0000${name}`).toString(36)}${index}`;
}

export function toolArguments(subject: string, name: string): string {
  return JSON.stringify({ tool: name, query: subject });
}

/** Splits text into the pieces a stream sends: words with their trailing space. Joined, they are the text. */
export function streamPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Splits tool-call arguments into fragments as OpenAI streams them (a few characters each). */
export function argumentFragments(args: string, size = 7): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out;
}

/** A rough token count: words. */
export function countTokens(text: string): number {
  return streamPieces(text).length;
}

/**
 * The embedding of one input: values that are multiples of 1/64 in [-2, 2), so that they survive
 * the round trip through float32 (base64 encoding) exactly.
 */
export function embeddingVector(input: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < dimensions; k++) out.push(((hash32(`${input}:${k}`) & 0xff) - 128) / 64);
  return out;
}

export function embeddingBase64(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

/** The inputs of an embeddings request as strings (token arrays as their JSON). */
export function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  if (input.length > 0 && typeof input[0] === 'number') return [JSON.stringify(input)];
  return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

/** The prompts of a legacy completions request as strings. */
export function completionPrompts(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== 'number') {
    return prompt.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  return [JSON.stringify(prompt)];
}

export function completionText(prompt: string, index = 0): string {
  return ` completed[${index}]: ${prompt}`;
}

/** One planned choice of a chat answer. */
export type PlannedChoice =
  | { readonly kind: 'text'; readonly content: string }
  | { readonly kind: 'tools'; readonly calls: readonly PlannedToolCall[] };

export interface ChatPlan {
  readonly choices: readonly PlannedChoice[];
  readonly usage: UsageNumbers;
}

export interface UsageNumbers {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** The whole answer to a chat request: `n` choices, each text or tool calls, and its usage. */
export function planChat(body: Json): ChatPlan {
  const messages = body.messages as Json[];
  const subject = subjectOf(messages);
  const format = (body.response_format as Json | undefined)?.type;
  const json = format === 'json_object' || format === 'json_schema';
  const calls = plannedToolCalls(body);
  const n = typeof body.n === 'number' && body.n > 1 ? Math.floor(body.n) : 1;
  const choices: PlannedChoice[] = [];
  let completion = 0;
  for (let index = 0; index < n; index++) {
    if (calls.length > 0) {
      choices.push({ kind: 'tools', calls });
      for (const call of calls) completion += argumentFragments(call.arguments).length + 1;
    } else {
      const content = chatAnswer(subject, index, json);
      choices.push({ kind: 'text', content });
      completion += countTokens(content);
    }
  }
  let prompt = 0;
  for (const message of messages) prompt += countTokens(contentText(message.content)) + 1;
  return { choices, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
}
