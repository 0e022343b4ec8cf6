/**
 * The floor for any Node gateway: the least a proxy must do for a chat call. It reads the body,
 * parses it, sets `model`, serialises it, forwards it over a keep-alive undici Pool, reads and
 * parses the answer and sends it on; a stream's bytes go to the client as they come, with
 * backpressure. No routing, no checks, no logging, no metrics.
 *
 * The upstream is called through undici's dispatch API with a small handler, the cheapest way
 * Node can make the call (`request()` adds a Readable body, an AsyncResource and a promise chain
 * per call, and `pipeline` a stream pipeline per answer): a floor that a gateway could undercut
 * with a cheaper client would not be one.
 *
 * Usage: node bare-hop.mjs --port N --upstream http://127.0.0.1:M --model ID
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    upstream: { type: 'string' },
    model: { type: 'string', default: 'bench-upstream-model' },
    connections: { type: 'string', default: '128' },
  },
});
if (values.upstream === undefined) throw new Error('--upstream is required');
const upstream = new URL(values.upstream);
const path = `${upstream.pathname.replace(/\/+$/, '')}/v1/chat/completions`;
const model = values.model;
// Same pool settings as Stellwerk's openai-compatible deployments (max_connections 128).
const pool = new Pool(upstream.origin, { connections: Number(values.connections), keepAliveTimeout: 30_000 });

const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** A whole answer: collected, parsed (as a gateway must, to learn its usage), sent with its length. */
class WholeAnswer implements Dispatcher.DispatchHandler {
  private status = 0;
  private readonly chunks: Buffer[] = [];

  constructor(private readonly res: ServerResponse) {}

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.status = statusCode; // 1xx: informational, the answer follows
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const text = (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8');
    try {
      JSON.parse(text);
    } catch (error) {
      this.onError(error as Error);
      return;
    }
    this.res.writeHead(this.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  onError(error: Error): void {
    fail(this.res, error);
  }
}

/** A stream: each chunk written to the client as it arrives; a full socket pauses the upstream until it drains. */
class StreamedAnswer implements Dispatcher.DispatchHandler {
  private resume: (() => void) | null = null;
  private readonly onDrain = () => this.resume?.();

  constructor(private readonly res: ServerResponse) {}

  onConnect(abort: (reason?: Error) => void): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) abort(new Error('client gone'));
    });
  }

  onHeaders(statusCode: number, _rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.resume = resume;
    this.res.on('drain', this.onDrain);
    this.res.writeHead(statusCode, STREAM_HEADERS);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.res.end();
  }

  onError(error: Error): void {
    fail(this.res, error);
  }
}

function fail(res: ServerResponse, error: Error): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: { message: error.message, type: 'bare_hop_error' } });
  res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (data: Buffer) => chunks.push(data));
  req.on('end', () => done((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
}

function forward(res: ServerResponse, text: string): void {
  let body: { model?: string; stream?: boolean };
  try {
    body = JSON.parse(text) as typeof body;
  } catch (error) {
    fail(res, error as Error);
    return;
  }
  body.model = model;
  const handler = body.stream === true ? new StreamedAnswer(res) : new WholeAnswer(res);
  pool.dispatch({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, handler);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return;
  }
  readBody(req, (text) => forward(res, text));
}

const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 60_000 }, onRequest);
server.listen(Number(values.port ?? 0), values.host);
process.on('SIGTERM', () => process.exit(0));
