import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GoogleGenAIOptions } from '@google/genai';

/**
 * A server that only records: the request-shape tests point the official @google/genai SDK at it
 * to learn what a correct request looks like (path, query, headers, body), then send the same
 * input through Stellwerk's adapter and compare. It answers just enough for both to succeed.
 */

export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface CaptureServer {
  readonly url: string;
  readonly captured: CapturedRequest[];
  close(): Promise<void>;
}

const ANSWER = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 },
};

export async function startCaptureServer(): Promise<CaptureServer> {
  const captured: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://capture');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // a form (the token request) stays text
      }
      captured.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });
      let answer: unknown = ANSWER;
      if (url.pathname === '/token') answer = { access_token: 'ya29.captured-token', expires_in: 3600, token_type: 'Bearer' };
      else if (url.pathname.endsWith(':embedContent')) answer = { embedding: { values: [0.5] } };
      else if (url.pathname.endsWith(':batchEmbedContents')) answer = { embeddings: ((body as { requests?: unknown[] }).requests ?? []).map(() => ({ values: [0.5] })) };
      else if (url.pathname.endsWith(':predict')) {
        answer = { predictions: ((body as { instances?: unknown[] }).instances ?? []).map(() => ({ embeddings: { values: [0.5], statistics: { token_count: 1 } } })) };
      }
      if (url.searchParams.get('alt') === 'sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify(answer)}\r\n\r\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    captured,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type GoogleAuthOptions = NonNullable<GoogleGenAIOptions['googleAuthOptions']>;

/**
 * Auth options for @google/genai in Vertex mode that present a fixed access token: an auth client
 * as google-auth-library's GoogleAuth uses one (it only asks it for request headers), so the SDK
 * needs no real Google credentials to talk to a local server.
 */
export function fixedTokenAuth(token: string): GoogleAuthOptions {
  const authClient = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${token}` }) };
  return { authClient: authClient as unknown as GoogleAuthOptions['authClient'] };
}
