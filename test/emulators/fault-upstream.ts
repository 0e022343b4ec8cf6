import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A small OpenAI-compatible upstream whose behaviour can be switched while it runs, for routing
 * and resilience tests: healthy, failing with a status, resetting connections, rate-limiting,
 * refusing long prompts, slow, or breaking a stream before or after its first event.
 */
export type FaultMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; message?: string; code?: string }
  | { kind: 'reset' }
  | { kind: 'reset-before-first-event' }
  | { kind: 'reset-after-first-event' };

export interface FaultUpstream {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly name: string;
  /** Requests received (every POST, answered or not). */
  count: number;
  /** Requests in progress right now, and the most at once. */
  inFlight: number;
  maxInFlight: number;
  mode: FaultMode;
  /** Milliseconds before answering (and between stream events). */
  delayMs: number;
  /** Resolves when `count` reaches n. */
  reached(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultUpstream(name: string, mode: FaultMode = { kind: 'ok' }, delayMs = 0): Promise<FaultUpstream> {
  const sockets = new Set<Socket>();
  const waiters: { n: number; resolve: () => void }[] = [];
  const upstream: FaultUpstream = {
    url: '',
    name,
    count: 0,
    inFlight: 0,
    maxInFlight: 0,
    mode,
    delayMs,
    reached(n) {
      if (upstream.count >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => void handle(upstream, req, res, waiters));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (upstream as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return upstream;
}

async function handle(upstream: FaultUpstream, req: IncomingMessage, res: ServerResponse, waiters: { n: number; resolve: () => void }[]) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (req.method !== 'POST') {
    res.writeHead(upstream.mode.kind === 'ok' ? 200 : 503).end();
    return;
  }
  upstream.count++;
  for (const waiter of [...waiters]) {
    if (upstream.count >= waiter.n) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
  upstream.inFlight++;
  upstream.maxInFlight = Math.max(upstream.maxInFlight, upstream.inFlight);
  res.on('close', () => upstream.inFlight--);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; stream?: boolean };
  const mode = upstream.mode;
  if (upstream.delayMs > 0) await delay(upstream.delayMs);
  switch (mode.kind) {
    case 'reset':
      req.socket.destroy();
      return;
    case 'status':
      res.writeHead(mode.status, { 'content-type': 'application/json', ...mode.headers });
      res.end(JSON.stringify({ error: { message: mode.message ?? `${upstream.name} failed`, type: 'server_error', param: null, code: mode.code ?? null } }));
      return;
  }
  const answer = `answer from ${upstream.name}`;
  if (!body.stream) {
    const usage = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 };
    const message = { role: 'assistant', content: answer };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message, finish_reason: 'stop' }], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (mode.kind === 'reset-before-first-event') {
    res.flushHeaders();
    setImmediate(() => req.socket.destroy());
    return;
  }
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }, null));
  for (const word of answer.split(' ')) {
    if (upstream.delayMs > 0) await delay(upstream.delayMs);
    res.write(chunk({ content: word === 'answer' ? word : ` ${word}` }, null));
    if (mode.kind === 'reset-after-first-event') {
      setImmediate(() => req.socket.destroy());
      return;
    }
  }
  res.write(chunk({}, 'stop'));
  res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n`);
  res.end('data: [DONE]\n\n');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
