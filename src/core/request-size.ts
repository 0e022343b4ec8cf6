/**
 * Cheap measures of a request's size, for routing and limit estimates before any tokenizer runs.
 */

/** Prompt tokens estimated from the body's size (about four bytes a token). */
export function estimatePromptTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

/** The output limit the request sets (`max_completion_tokens`, else `max_tokens`), or null. */
export function requestedOutputTokens(body: unknown): number | null {
  const record = body as { max_completion_tokens?: unknown; max_tokens?: unknown } | undefined;
  const limit = record?.max_completion_tokens ?? record?.max_tokens;
  return typeof limit === 'number' && limit >= 0 ? limit : null;
}
