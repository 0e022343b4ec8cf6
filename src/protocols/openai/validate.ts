import { GatewayError } from '../../core/errors.js';

/**
 * Checks of request bodies, hand-written rather than schema-parsed: they run on every request
 * and look at only the few fields the gateway itself needs; everything else is the upstream's
 * to judge and passes through untouched. Each failure names the field.
 */

export type JsonObject = Record<string, unknown>;

export function requireObject(body: unknown): JsonObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object.', null);
  }
  return body as JsonObject;
}

export function requireModel(body: JsonObject): string {
  const model = body.model;
  if (model === undefined || model === null) throw invalid('Missing required parameter: "model".', 'model');
  if (typeof model !== 'string' || model.length === 0) throw invalid('"model" must be a non-empty string.', 'model');
  return model;
}

export function optionalBoolean(body: JsonObject, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalid(`"${field}" must be a boolean.`, field);
  return value;
}

/** `stream_options.include_usage` as the client set it. */
export function wantsStreamUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  if (options === undefined || options === null) return false;
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('"stream_options" must be an object.', 'stream_options');
  const include = (options as JsonObject).include_usage;
  if (include === undefined || include === null) return false;
  if (typeof include !== 'boolean') throw invalid('"stream_options.include_usage" must be a boolean.', 'stream_options.include_usage');
  return include;
}

export function requireMessages(body: JsonObject): void {
  const messages = body.messages;
  if (messages === undefined || messages === null) throw invalid('Missing required parameter: "messages".', 'messages');
  if (!Array.isArray(messages)) throw invalid('"messages" must be an array.', 'messages');
  if (messages.length === 0) throw invalid('"messages" must contain at least one message.', 'messages');
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw invalid(`"messages[${i}]" must be an object.`, `messages[${i}]`);
    }
    const role = (message as JsonObject).role;
    if (typeof role !== 'string' || role.length === 0) {
      throw invalid(`Missing required parameter: "messages[${i}].role".`, `messages[${i}].role`);
    }
    const content = (message as JsonObject).content;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw invalid(`"messages[${i}].content" must be a string or an array of content parts.`, `messages[${i}].content`);
    }
  }
}

export function requireEmbeddingInput(body: JsonObject): void {
  const input = body.input;
  if (input === undefined || input === null) throw invalid('Missing required parameter: "input".', 'input');
  if (typeof input === 'string') return;
  if (!Array.isArray(input) || input.length === 0) {
    throw invalid('"input" must be a string or a non-empty array of strings or token arrays.', 'input');
  }
}

export function requirePrompt(body: JsonObject): void {
  if (body.prompt === undefined) throw invalid('Missing required parameter: "prompt".', 'prompt');
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}
