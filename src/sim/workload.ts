import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { roleMarker } from './chat-request.js';
import { randomInt, seededRandom, zipfSampler, type Random } from './random.js';
import type { TraceRequest } from './trace.js';

/**
 * Prompts for a trace that has only token counts, with the prefix sharing of real traffic:
 *
 * - **Tenants.** `tenants` applications, chosen per request with Zipf(`zipfExponent`)
 *   popularity, each with its own system prompt of `systemTokens` tokens (uniform in the range).
 * - **Conversations.** With probability `followUp` a request continues the tenant's most recent
 *   open conversation that it can extend: the new prompt is the previous prompt + the previous
 *   answer (as many tokens as that request generated) + a new user message. Otherwise it starts
 *   a conversation: the system prompt (cut short when the request's context is shorter) + a
 *   user message. Each tenant keeps its `openConversations` most recent conversations.
 * - **Lengths.** The user message is sized so the whole prompt has exactly the trace's context
 *   tokens as the simulated server counts them (one role marker per message + cl100k tokens of
 *   its text); the trace's generated tokens are the request's max_tokens.
 *
 * Texts are lowercase English words that are one cl100k token each (with their leading space),
 * so a text of n words is n tokens, and the token ids are known without tokenizing.
 */
export interface WorkloadOptions {
  readonly seed: number;
  readonly tenants: number;
  readonly zipfExponent: number;
  readonly systemTokens: readonly [number, number];
  readonly followUp: number;
  readonly openConversations: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = { seed: 1, tenants: 20, zipfExponent: 1.1, systemTokens: [300, 1_500], followUp: 0.5, openConversations: 8 };

export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
  readonly tokens: readonly number[];
}

export interface GeneratedPrompt {
  readonly tenant: number;
  /** 1 for a new conversation, 2… for follow-ups. */
  readonly turn: number;
  readonly messages: readonly PromptMessage[];
  /** What the simulated server sees: role markers and content tokens. */
  readonly tokens: readonly number[];
  readonly outputTokens: number;
}

const CANDIDATE_WORDS = (
  'the signal box sets points for every train on time track line station platform north south east west ' +
  'morning evening freight passenger express local switch route clear stop slow fast green red yellow ' +
  'report check open close left right main branch yard depot crew driver guard ticket schedule delay ' +
  'minute hour day week city river bridge tunnel hill valley coast border harbour airport market school ' +
  'house garden window door table chair paper letter number value price order answer question reason ' +
  'water light power energy data model server request query result error state event change update ' +
  'first second third last next new old good great small large long short high low early late ' +
  'and or but with from into over under after before about between through during without within'
).split(' ');

interface Vocabulary {
  readonly words: readonly string[];
  readonly ids: readonly number[];
}

let vocabulary: Vocabulary | undefined;

/** The candidate words that are exactly one token with a leading space. */
function words(): Vocabulary {
  if (vocabulary !== undefined) return vocabulary;
  const kept: string[] = [];
  const ids: number[] = [];
  for (const word of new Set(CANDIDATE_WORDS)) {
    const tokens = encode(` ${word}`);
    if (tokens.length === 1) {
      kept.push(` ${word}`);
      ids.push(tokens[0]!);
    }
  }
  vocabulary = { words: kept, ids };
  return vocabulary;
}

function text(random: Random, length: number): { content: string; tokens: number[] } {
  const { words: list, ids } = words();
  let content = '';
  const tokens = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const pick = Math.floor(random() * list.length);
    content += list[pick];
    tokens[i] = ids[pick]!;
  }
  return { content, tokens };
}

function message(role: PromptMessage['role'], body: { content: string; tokens: number[] }): PromptMessage {
  return { role, content: body.content, tokens: body.tokens };
}

interface Conversation {
  messages: PromptMessage[];
  /** Prompt tokens of the last turn (markers included). */
  promptTokens: number;
  lastAnswerTokens: number;
  turn: number;
}

/** Smallest new user message a follow-up adds. */
const MIN_USER_TOKENS = 4;

export class WorkloadGenerator {
  private readonly random: Random;
  private readonly pickTenant: () => number;
  private readonly systemPrompts: { content: string; tokens: number[] }[];
  private readonly conversations: Conversation[][];

  constructor(readonly options: WorkloadOptions = DEFAULT_WORKLOAD) {
    this.random = seededRandom(options.seed);
    this.pickTenant = zipfSampler(options.tenants, options.zipfExponent, this.random);
    this.systemPrompts = Array.from({ length: options.tenants }, () => text(this.random, randomInt(this.random, options.systemTokens[0], options.systemTokens[1])));
    this.conversations = Array.from({ length: options.tenants }, () => []);
  }

  /** The next request's prompt (call in trace order: conversations follow arrival order). */
  next(request: TraceRequest): GeneratedPrompt {
    const tenant = this.pickTenant();
    const open = this.conversations[tenant]!;
    const context = request.promptTokens;
    let conversation: Conversation | undefined;
    if (this.random() < this.options.followUp) {
      for (let i = open.length - 1; i >= 0; i--) {
        const candidate = open[i]!;
        if (candidate.promptTokens + 1 + candidate.lastAnswerTokens + 1 + MIN_USER_TOKENS <= context) {
          conversation = candidate;
          open.splice(i, 1);
          break;
        }
      }
    }
    let messages: PromptMessage[];
    if (conversation !== undefined) {
      messages = [...conversation.messages, message('assistant', text(this.random, conversation.lastAnswerTokens))];
    } else {
      const system = this.systemPrompts[tenant]!;
      // Leave room for the user message; a short context gets a cut system prompt (same prefix).
      const room = Math.max(0, Math.min(system.tokens.length, context - 2 - MIN_USER_TOKENS));
      messages = room > 0 ? [message('system', cut(system, room))] : [];
      conversation = { messages: [], promptTokens: 0, lastAnswerTokens: 0, turn: 0 };
    }
    const used = messages.reduce((sum, m) => sum + 1 + m.tokens.length, 0);
    messages.push(message('user', text(this.random, Math.max(0, context - used - 1))));
    const tokens: number[] = [];
    for (const m of messages) {
      tokens.push(roleMarker(m.role));
      for (const token of m.tokens) tokens.push(token);
    }
    conversation.messages = messages;
    conversation.promptTokens = tokens.length;
    conversation.lastAnswerTokens = request.outputTokens;
    conversation.turn++;
    open.push(conversation);
    if (open.length > this.options.openConversations) open.shift();
    return { tenant, turn: conversation.turn, messages, tokens, outputTokens: request.outputTokens };
  }
}

function cut(body: { content: string; tokens: number[] }, length: number): { content: string; tokens: number[] } {
  if (length >= body.tokens.length) return body;
  const { words: list, ids } = words();
  const tokens = body.tokens.slice(0, length);
  let content = '';
  for (const token of tokens) content += list[ids.indexOf(token)];
  return { content, tokens };
}
