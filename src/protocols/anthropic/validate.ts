import { GatewayError } from '../../core/errors.js';

/**
 * Checks of Anthropic request bodies, hand-written like the OpenAI side's: they look only at what
 * the translation reads, and each failure names the field by its path in the request
 * (`messages[2].content[0].source.data`), because Anthropic's error shape has no `param`.
 */

export type JsonObject = Record<string, unknown>;

export function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', { message, param });
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function requireObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw invalid(path === '' ? 'The request body must be a JSON object.' : `"${path}" must be an object.`, path || null);
  return value;
}

/** True when the field is absent: Anthropic treats null like a missing optional field. */
export function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function requireString(object: JsonObject, key: string, path: string): string {
  const value = object[key];
  const field = join(path, key);
  if (absent(value)) throw invalid(`Missing required parameter: "${field}".`, field);
  if (typeof value !== 'string') throw invalid(`"${field}" must be a string.`, field);
  return value;
}

export function optionalString(object: JsonObject, key: string, path: string): string | undefined {
  const value = object[key];
  if (absent(value)) return undefined;
  if (typeof value !== 'string') throw invalid(`"${join(path, key)}" must be a string.`, join(path, key));
  return value;
}

export function optionalNumber(object: JsonObject, key: string, path: string): number | undefined {
  const value = object[key];
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`"${join(path, key)}" must be a number.`, join(path, key));
  return value;
}

export function optionalInteger(object: JsonObject, key: string, path: string, minimum: number): number | undefined {
  const value = optionalNumber(object, key, path);
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw invalid(`"${join(path, key)}" must be an integer of at least ${minimum}.`, join(path, key));
  }
  return value;
}

export function optionalBoolean(object: JsonObject, key: string, path: string): boolean | undefined {
  const value = object[key];
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw invalid(`"${join(path, key)}" must be a boolean.`, join(path, key));
  return value;
}

export function optionalArray(object: JsonObject, key: string, path: string): unknown[] | undefined {
  const value = object[key];
  if (absent(value)) return undefined;
  if (!Array.isArray(value)) throw invalid(`"${join(path, key)}" must be an array.`, join(path, key));
  return value;
}

export function optionalStringArray(object: JsonObject, key: string, path: string): string[] | undefined {
  const value = optionalArray(object, key, path);
  if (value === undefined) return undefined;
  value.forEach((item, index) => {
    if (typeof item !== 'string') throw invalid(`"${join(path, key)}[${index}]" must be a string.`, `${join(path, key)}[${index}]`);
  });
  return value as string[];
}
