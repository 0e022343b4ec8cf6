/**
 * The floor for any Node gateway: the least a proxy must do for a chat call. It reads the body,
 * parses it, sets `model`, serialises it, forwards it over a keep-alive undici Pool, reads and
 * parses the answer and sends it on; a stream is piped through untouched. No routing, no checks,
 * no logging, no metrics.
 *
 * Usage: node bare-hop.mjs --port N --upstream http://127.0.0.1:M --model ID
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (data: Buffer) => chunks.push(data));
    req.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
    req.on('error', reject);
  });
}

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = JSON.parse(await readBody(req)) as { model?: string; stream?: boolean };
  body.model = model;
  const response = await pool.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (body.stream === true) {
    res.writeHead(response.statusCode, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    await pipeline(response.body, res);
    return;
  }
  const text = await response.body.text();
  JSON.parse(text);
  res.writeHead(response.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return;
  }
  forward(req, res).catch((error: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = JSON.stringify({ error: { message: (error as Error).message, type: 'bare_hop_error' } });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 60_000 }, onRequest);
server.listen(Number(values.port ?? 0), values.host);
process.on('SIGTERM', () => process.exit(0));
