import { encode } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * What the simulated server needs from an OpenAI chat request: the prompt's token ids (for
 * counting and prefix hashing), how many tokens to generate, and whether to stream. Prompts are
 * tokenized with cl100k_base, the BPE that Llama 3's 128k-token vocabulary extends, so counts
 * are close to a Llama server's (not equal: Llama 3 has 28k more merges and its own chat
 * template). Each message is encoded on its own after a role marker, so appending a turn never
 * changes the tokens of the turns before it: a multi-turn prompt extends its previous prompt's
 * token prefix, as with a real chat template.
 */
export interface ChatRequest {
  readonly model: string;
  readonly tokens: number[];
  readonly outputTokens: number;
  /** True when the client set the output length; the answer then ends with finish_reason "length". */
  readonly outputLimited: boolean;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export class ChatRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

/** Token ids above cl100k's vocabulary mark where a message of each role starts. */
const ROLE_MARKERS: Readonly<Record<string, number>> = { system: 200_001, developer: 200_002, user: 200_003, assistant: 200_004, tool: 200_005 };

function contentText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      if (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string') {
        text += (part as { text: string }).text;
      }
    }
    return text;
  }
  throw new ChatRequestError(`messages[${index}].content must be a string or an array of content parts`, `messages[${index}].content`);
}

function positiveInt(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ChatRequestError(`${name} must be a positive integer`, name);
  return value;
}

/** Reads and checks a parsed JSON body; throws ChatRequestError with the offending field. */
export function parseChatRequest(body: unknown, defaultOutputTokens: number): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ChatRequestError('the body must be a JSON object', null);
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') throw new ChatRequestError('model must be a non-empty string', 'model');
  const messages = fields.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new ChatRequestError('messages must be a non-empty array', 'messages');
  const tokens: number[] = [];
  messages.forEach((message: unknown, index) => {
    const role = typeof message === 'object' && message !== null ? (message as { role?: unknown }).role : undefined;
    if (typeof role !== 'string' || !Object.hasOwn(ROLE_MARKERS, role)) {
      throw new ChatRequestError(`messages[${index}].role must be one of ${Object.keys(ROLE_MARKERS).join(', ')}`, `messages[${index}].role`);
    }
    tokens.push(ROLE_MARKERS[role]!);
    for (const token of encode(contentText((message as { content?: unknown }).content, index))) tokens.push(token);
  });
  if (fields.n !== undefined && fields.n !== null && fields.n !== 1) throw new ChatRequestError('the simulator answers with one choice only (n must be 1)', 'n');
  const limit = positiveInt(fields.max_completion_tokens, 'max_completion_tokens') ?? positiveInt(fields.max_tokens, 'max_tokens');
  if (fields.stream !== undefined && fields.stream !== null && typeof fields.stream !== 'boolean') throw new ChatRequestError('stream must be a boolean', 'stream');
  const options = fields.stream_options;
  const includeUsage = typeof options === 'object' && options !== null && (options as { include_usage?: unknown }).include_usage === true;
  return {
    model: fields.model,
    tokens,
    outputTokens: limit ?? defaultOutputTokens,
    outputLimited: limit !== undefined,
    stream: fields.stream === true,
    includeUsage,
  };
}

/** The role marker counts as the message's framing; content tokens are cl100k tokens. */
export function roleMarker(role: keyof typeof ROLE_MARKERS): number {
  return ROLE_MARKERS[role]!;
}

/** Filler the server "generates": one word per token. */
const OUTPUT_WORDS = [' the', ' signal', ' is', ' set', ' and', ' the', ' train', ' runs', ' on', ' time', '.'];

export function outputText(from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += OUTPUT_WORDS[i % OUTPUT_WORDS.length];
  return text;
}
