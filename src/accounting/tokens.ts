/**
 * Counting tokens when the provider reported none (a stream without a usage chunk, an aborted
 * stream). OpenAI-family models are counted with their own encoding (gpt-tokenizer: o200k_base
 * for the GPT-4o/4.1/5 and o-series generation, cl100k_base for GPT-4 and GPT-3.5 and the v3
 * embeddings); other models get the usual estimate of four characters per token. Either way
 * the usage is marked `estimated`: only the provider knows the exact count (chat formatting,
 * tool schemas, images).
 *
 * The encodings are loaded on first use (they take hundreds of milliseconds and tens of MB),
 * never at start and never for a request whose provider reported its usage.
 */

export type Encoding = 'o200k_base' | 'cl100k_base';
type Counter = (text: string) => number;

const O200K = /^(?:gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-oss|chatgpt-4o|codex)/;
const CL100K = /^(?:gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/;

/** The encoding of an OpenAI-family model id, or null for other models. */
export function encodingFor(upstreamModel: string): Encoding | null {
  let model = upstreamModel.toLowerCase();
  const slash = model.lastIndexOf('/');
  if (slash !== -1) model = model.slice(slash + 1);
  if (O200K.test(model)) return 'o200k_base';
  if (CL100K.test(model)) return 'cl100k_base';
  return null;
}

const loaded = new Map<Encoding, Promise<Counter>>();

function load(encoding: Encoding): Promise<Counter> {
  let counter = loaded.get(encoding);
  if (counter === undefined) {
    counter =
      encoding === 'o200k_base'
        ? import('gpt-tokenizer/encoding/o200k_base').then((module) => (text: string) => module.countTokens(text))
        : import('gpt-tokenizer/encoding/cl100k_base').then((module) => (text: string) => module.countTokens(text));
    loaded.set(encoding, counter);
  }
  return counter;
}

/** The honest estimate for text of an unknown tokenizer: four characters per token, rounded up. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Tokens of `text` as the model counts them (OpenAI family) or as estimated. */
export async function countTokens(upstreamModel: string, text: string): Promise<number> {
  if (text === '') return 0;
  const encoding = encodingFor(upstreamModel);
  if (encoding === null) return estimateTokens(text.length);
  const counter = await load(encoding);
  return counter(text);
}

/** Tokens OpenAI's chat format adds per message and to prime the reply (OpenAI cookbook, "How to count tokens"). */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

/** The text a chat or completions request puts before the model, and how many messages it has. */
export function promptText(body: unknown): { text: string; messages: number } {
  if (body === null || typeof body !== 'object') return { text: '', messages: 0 };
  const request = body as { messages?: unknown; prompt?: unknown; input?: unknown; tools?: unknown };
  const parts: string[] = [];
  let messages = 0;
  if (Array.isArray(request.messages)) {
    for (const message of request.messages as { content?: unknown; tool_calls?: unknown }[]) {
      messages++;
      collectText(message?.content, parts);
      if (message?.tool_calls !== undefined) parts.push(JSON.stringify(message.tool_calls));
    }
    if (request.tools !== undefined) parts.push(JSON.stringify(request.tools));
  } else {
    collectText(request.prompt ?? request.input, parts);
  }
  return { text: parts.join('\n'), messages };
}

function collectText(content: unknown, parts: string[]): void {
  if (typeof content === 'string') parts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') parts.push(part);
      else if (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') parts.push((part as { text: string }).text);
    }
  }
}

/** Prompt tokens of a chat or completions request. */
export async function countPromptTokens(upstreamModel: string, body: unknown): Promise<number> {
  const { text, messages } = promptText(body);
  const tokens = await countTokens(upstreamModel, text);
  return messages > 0 ? tokens + messages * PER_MESSAGE + REPLY_PRIMING : tokens;
}
