import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

/**
 * How a stream leaves the gateway, seen on the wire: the HTTP chunks of the answer, read with a
 * plain socket (an SDK reassembles them and could not tell).
 */

const chunk = (n: number) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"t${n}"},"finish_reason":null}]}\n\n`;

/** Upstream answers by model id, each written in one write, so that the gateway reads it at once. */
const ANSWERS: Record<string, string> = {
  'one-read': chunk(1) + chunk(2) + chunk(3) + 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}\n\ndata: [DONE]\n\n',
  // A usage chunk that is not JSON, after an ordinary one in the same read.
  'bad-usage': chunk(1) + 'data: {"choices":[],"usage":{"prompt_tokens":3,}\n\ndata: [DONE]\n\n',
};

let upstream: Server;
let gateway: RunningGateway;

before(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (data: Buffer) => (body += data.toString('utf8')));
    req.on('end', () => {
      const { model } = JSON.parse(body) as { model: string };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(ANSWERS[model]);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  gateway = await startGateway(`
models:
  - name: one-read
    deployments: [{ provider: openai-compatible, name: up-1, base_url: ${url}, model: one-read }]
  - name: bad-usage
    deployments: [{ provider: openai-compatible, name: up-2, base_url: ${url}, model: bad-usage }]
`);
});

after(async () => {
  await gateway.close();
  await new Promise((resolve) => upstream.close(resolve));
});

/** POSTs a streaming chat call over a fresh socket and returns the answer's HTTP chunks, in order. */
async function streamChunks(model: string): Promise<string[]> {
  const { port } = new URL(gateway.url);
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const parts: Buffer[] = [];
  for await (const data of socket) parts.push(data as Buffer);
  const raw = Buffer.concat(parts).toString('utf8');
  const headerEnd = raw.indexOf('\r\n\r\n');
  assert.match(raw.slice(0, headerEnd), /^HTTP\/1\.1 200 .*transfer-encoding: chunked/is);
  const chunks: string[] = [];
  let at = headerEnd + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.slice(at, lineEnd), 16);
    if (size === 0) break;
    // Sizes count bytes; these answers are ASCII.
    chunks.push(raw.slice(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return chunks;
}

test('the events of one upstream read leave in one HTTP chunk, [DONE] after them', async () => {
  const chunks = await streamChunks('one-read');
  // The client did not ask for usage: the usage chunk is kept back.
  assert.deepEqual(chunks, [chunk(1) + chunk(2) + chunk(3), 'data: [DONE]\n\n']);
});

test('a bad event in the middle of a read: the events before it still reach the client, then the error', async () => {
  const chunks = await streamChunks('bad-usage');
  const text = chunks.join('');
  assert.ok(text.startsWith(chunk(1)), text);
  const events = text.split('\n\n').filter((event) => event !== '');
  assert.equal(events.length, 2, text);
  const error = JSON.parse(events[1]!.slice('data: '.length)) as { error: { code: string } };
  assert.equal(error.error.code, 'upstream_bad_response');
  assert.ok(!text.includes('[DONE]'));
});
