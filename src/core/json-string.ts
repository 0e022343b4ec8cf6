/** Characters JSON.stringify writes other than as they are: quote, backslash, controls, and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as a JSON string literal, the same text JSON.stringify writes: most strings on the
 * request path (ids, names, codes) need no escaping and are quoted as they are.
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}
