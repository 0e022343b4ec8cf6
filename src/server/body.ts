import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../core/errors.js';

/**
 * Reads a request body up to `limit` bytes and parses it as JSON. A declared length over the
 * limit is refused before reading; a body that grows past it is refused as soon as it does.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<{ value: unknown; size: number }> {
  const into: JsonBodyTarget = { body: undefined, bodyBytes: 0 };
  return readJsonInto(req, limit, into).then(() => ({ value: into.body, size: into.bodyBytes }));
}

/** Where readJsonInto puts the parsed body and its size in bytes (a RequestContext is one). */
export interface JsonBodyTarget {
  body: unknown;
  bodyBytes: number;
}

/**
 * readJson for the request path: sets `into.body` and `into.bodyBytes` and resolves with nothing,
 * so that the stage that reads the body needs no promise of its own around this one.
 */
export function readJsonInto(req: IncomingMessage, limit: number, into: JsonBodyTarget): Promise<void> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      // The listeners stay: after 'end' only a late 'error' or 'close' can come, which find the
      // promise settled (and an 'error' with no listener would be thrown). Removing them cost
      // four listener removals on every request.
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      if (text.length === 0) {
        reject(new GatewayError('invalid_json', { message: 'The request body is empty; send a JSON object.' }));
        return;
      }
      try {
        into.body = JSON.parse(text);
        into.bodyBytes = size;
        resolve();
      } catch (error) {
        reject(new GatewayError('invalid_json', { message: `The request body is not valid JSON: ${(error as Error).message}` }));
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new GatewayError('client_closed_request', { cause: error }));
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(new GatewayError('client_closed_request'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('request_too_large', { message: `The request body is larger than the limit of ${limit} bytes.` });
}
