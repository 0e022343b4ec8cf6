import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import type { BackendView } from '../../src/fleet/fleet-view.js';

const MASTER = 'fleet-work-master-key-0123';

/**
 * A self-hosted server stand-in that holds each streamed chat answer until the test releases it,
 * so the time between sending a prompt and its first byte can be observed from outside.
 */
interface HeldUpstream {
  readonly baseUrl: string;
  /** Answers received and not yet released, oldest first. */
  readonly held: ServerResponse[];
  /** Resolves once `count` answers are held. */
  heldCount(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startHeldUpstream(): Promise<HeldUpstream> {
  const held: ServerResponse[] = [];
  let waiter: (() => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('vllm:num_requests_waiting{model_name="base"} 0\nvllm:num_requests_running{model_name="base"} 0\n');
      return;
    }
    req.resume();
    req.on('end', () => {
      held.push(res);
      res.on('close', () => {
        const index = held.indexOf(res);
        if (index >= 0) held.splice(index, 1);
      });
      waiter?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    held,
    heldCount: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (held.length >= count) {
            waiter = null;
            resolve();
          }
        };
        waiter = check;
        check();
      }),
    close: () => {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function chunk(content: string, finish: string | null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-held', object: 'chat.completion.chunk', created: 1, model: 'base', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
}

let upstream: HeldUpstream;
let running: RunningGateway;
let client: OpenAI;

before(async () => {
  upstream = await startHeldUpstream();
  running = await startGateway(`
auth: { master_key: ${MASTER} }
fleet: { scrape_interval_ms: 200 }
models:
  - name: llama
    routing: { strategy: least-work }
    retry: { attempts: 1 }
    deployments:
      - { provider: openai-compatible, name: gpu-held, base_url: "${upstream.baseUrl}", model: base, kind: self-hosted, engine: vllm }
`);
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: MASTER, maxRetries: 0 });
});

after(async () => {
  await running.close();
  await upstream.close();
});

async function prefillTokens(): Promise<number> {
  const response = await fetch(`${running.url}/admin/fleet`, { headers: { authorization: `Bearer ${MASTER}` } });
  const body = (await response.json()) as { data: BackendView[] };
  return body.data[0]!.gateway_prefill_tokens;
}

/** Polls GET /admin/fleet until the prefill outstanding satisfies `ready`, or fails after the deadline. */
async function waitForPrefill(ready: (tokens: number) => boolean, what: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const tokens = await prefillTokens();
    if (ready(tokens)) return tokens;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${tokens}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a streamed prompt counts as prefill outstanding until its first byte arrives', async () => {
  assert.equal(await prefillTokens(), 0);
  const question = 'Summarise the timetable changes for the northern line. '.repeat(40);
  // The gateway answers the client once the upstream does: the call is awaited only after the release.
  const reading = (async () => {
    const stream = await client.chat.completions.create({ model: 'llama', stream: true, messages: [{ role: 'user', content: question }] });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    return text;
  })();
  await upstream.heldCount(1);
  const outstanding = await prefillTokens();
  // The estimate is the request body's bytes / 4: at least the question's characters / 4.
  assert.ok(outstanding >= question.length / 4, `prefill outstanding ${outstanding}`);
  const res = upstream.held[0]!;
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunk('Fewer ', null));
  await waitForPrefill((tokens) => tokens === 0, 'the first byte to release the prompt');
  res.write(chunk('trains.', 'stop'));
  res.end('data: [DONE]\n\n');
  assert.equal(await reading, 'Fewer trains.');
  assert.equal(await prefillTokens(), 0);
});

test('a request the client abandons before its first byte releases its prompt tokens', async () => {
  const controller = new AbortController();
  const pending = client.chat.completions
    .create({ model: 'llama', stream: true, messages: [{ role: 'user', content: 'A question the client gives up on. '.repeat(30) }] }, { signal: controller.signal })
    .then(
      () => 'answered',
      () => 'aborted',
    );
  await upstream.heldCount(1);
  assert.ok((await prefillTokens()) > 0);
  controller.abort();
  assert.equal(await pending, 'aborted');
  await waitForPrefill((tokens) => tokens === 0, 'the abandoned attempt to release its prompt');
});
