import type { ChatRequest } from '../../core/types.js';
import type { Stage } from '../../server/lifecycle.js';
import { sendJson } from '../../server/respond.js';
import { toCanonicalRequest } from './translate-request.js';

/**
 * `POST /v1/messages/count_tokens`: an estimate, not a tokenizer's count. The gateway does not
 * know the tokenizer of whatever deployment will answer, so it counts characters: about four
 * per token over all text (system, messages, tool calls and results, tool definitions), plus a
 * flat amount per image. The same estimate is what a streamed answer's `message_start` reports
 * as input_tokens until the upstream's real count arrives in `message_delta`.
 */

const CHARS_PER_TOKEN = 4;
/** What Anthropic charges for an image of about 1.15 megapixels, its recommended maximum size. */
const TOKENS_PER_IMAGE = 1_600;

export function estimateInputTokens(request: ChatRequest): number {
  let chars = 0;
  let images = 0;
  for (const message of request.messages) {
    const content = message.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text' && typeof part.text === 'string') chars += part.text.length;
        else if (part.type === 'image_url') images++;
        else chars += JSON.stringify(part).length;
      }
    }
    for (const call of message.tool_calls ?? []) chars += call.function.name.length + call.function.arguments.length;
  }
  for (const tool of request.tools ?? []) chars += JSON.stringify(tool.function ?? tool).length;
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN) + images * TOKENS_PER_IMAGE);
}

/** Checks the body as /v1/messages does (without max_tokens) and keeps the canonical request. */
export const parseCountTokensBody: Stage = function parseBody(ctx) {
  const { request } = toCanonicalRequest(ctx.body, { forCounting: true });
  ctx.model = request.model;
  ctx.body = request;
};

export const countTokens: Stage = function countTokens(ctx) {
  const inputTokens = estimateInputTokens(ctx.body as ChatRequest);
  sendJson(ctx, 200, JSON.stringify({ input_tokens: inputTokens }), { 'x-stellwerk-token-count': 'estimate' });
};
