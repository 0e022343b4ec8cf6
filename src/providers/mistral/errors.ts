import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayError } from '../../core/errors.js';
import { upstreamStatusError } from '../http/upstream-errors.js';

type Json = Record<string, unknown>;

interface Normalized {
  message: string | null;
  type: string | null;
  param: string | null;
  code: string | null;
}

/**
 * Mistral's error bodies, in the shapes it sends them:
 * - `{"object": "error", "message": "…", "type": "invalid_request_error", "param": null, "code": "3280"}`;
 * - validation (422): the same with `message: {"detail": [{"type", "loc": ["body", …], "msg", "input"}]}`
 *   (older answers: `detail` at the top, or the detail list as a JSON string in `message`);
 * - from its gateway: `{"message": "Unauthorized", "request_id": "…"}`, `{"detail": "Not Found"}`.
 * They are brought into OpenAI's shape and mapped as every provider's errors are (4xx keep status,
 * message, type and code; a 422's message lists each problem as `field: msg`, and `param` names
 * the first field; 401/403 and 5xx become 502).
 */
export function mistralStatusError(status: number, headers: IncomingHttpHeaders, text: string, secrets: readonly string[]): GatewayError {
  const normalized = normalize(text);
  if (normalized === null) return upstreamStatusError(status, headers, text, secrets);
  return upstreamStatusError(status, headers, JSON.stringify({ error: normalized }), secrets);
}

function normalize(text: string): Normalized | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const record = body as Json;
  const out: Normalized = {
    message: null,
    type: typeof record.type === 'string' ? record.type : null,
    param: typeof record.param === 'string' ? record.param : null,
    code: record.code === undefined || record.code === null ? null : String(record.code),
  };
  const details = validationDetails(record.message) ?? validationDetails(record.detail) ?? validationDetails(record);
  if (details !== null) {
    out.message = details.map((detail) => `${detail.field}: ${detail.msg}`).join('; ');
    out.param ??= details[0]?.field ?? null;
  } else if (typeof record.message === 'string') {
    out.message = record.message;
  } else if (typeof record.detail === 'string') {
    out.message = record.detail;
  }
  return out;
}

/** The problems of a validation error, each with its field as `messages[0].content`. */
function validationDetails(value: unknown): { field: string; msg: string }[] | null {
  let source = value;
  if (typeof source === 'string' && source.trimStart().startsWith('{')) {
    try {
      source = JSON.parse(source);
    } catch {
      return null;
    }
  }
  const detail = source !== null && typeof source === 'object' ? (source as Json).detail : undefined;
  if (!Array.isArray(detail) || detail.length === 0) return null;
  return detail.map((item) => {
    const entry = item !== null && typeof item === 'object' ? (item as Json) : {};
    const loc = Array.isArray(entry.loc) ? entry.loc.filter((part, index) => !(index === 0 && part === 'body')) : [];
    return { field: fieldPath(loc), msg: typeof entry.msg === 'string' ? entry.msg : 'invalid' };
  });
}

/** ["messages", 0, "user", "name"] → "messages[0].user.name" */
function fieldPath(loc: readonly unknown[]): string {
  let out = '';
  for (const part of loc) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out === '' ? 'body' : out;
}
