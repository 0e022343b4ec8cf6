/**
 * A zero-latency OpenAI-compatible upstream for the benchmark: POST /v1/chat/completions answers
 * a fixed chat.completion at once, or with `stream: true` a short SSE stream of 10
 * chat.completion.chunk events, a usage chunk (when `stream_options.include_usage`) and
 * `data: [DONE]`. It reads and parses every request body, as a real server would, and does
 * nothing else, so that what is measured through a proxy is the proxy.
 *
 * For the chaos scenario it can also be slow and flaky: `--delay-ms D` answers each request D ms
 * after its body arrived, `--fail-rate R` answers a share R of the requests (chosen at random,
 * per request) with HTTP 500 instead. `GET /count` returns how many chat requests it received
 * and how many of them it failed, so the orchestrator can tell which upstream got what share.
 *
 * Usage: node upstream.mjs --port N [--delay-ms D] [--fail-rate R]   (run by bench/run.ts,
 * transpiled to plain JS)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const CREATED = 1_700_000_000;
const ID = 'chatcmpl-bench';
const MODEL = 'bench-upstream-model';
const WORDS = ['Hello', '!', ' This', ' is', ' a', ' fixed', ' answer', '.'];
const USAGE = { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length };

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: ID,
    object: 'chat.completion',
    created: CREATED,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: USAGE,
  }),
);

function chunk(choices: unknown[], usage: unknown = null): string {
  return `data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created: CREATED, model: MODEL, choices, usage })}\n\n`;
}

/** Role, eight words, finish: ten chunk events. */
const STREAM_EVENTS: readonly string[] = [
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
  ...WORDS.map((word) => chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }])),
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
];
const USAGE_EVENT = chunk([], USAGE);
const DONE_EVENT = 'data: [DONE]\n\n';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '0' },
    'fail-rate': { type: 'string', default: '0' },
  },
});
const DELAY_MS = Number(values['delay-ms']);
const FAIL_RATE = Number(values['fail-rate']);
if (!(DELAY_MS >= 0) || !(FAIL_RATE >= 0 && FAIL_RATE <= 1)) throw new Error('--delay-ms must be >= 0 and --fail-rate in [0, 1]');

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

interface ChatBody {
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

function answer(res: ServerResponse, raw: Buffer): void {
  let body: ChatBody;
  try {
    body = JSON.parse(raw.toString('utf8')) as ChatBody;
  } catch {
    fail(res, 400, 'invalid JSON');
    return;
  }
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': COMPLETION.length });
    res.end(COMPLETION);
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  // One write per event, as a server that generates token by token sends them.
  for (const event of STREAM_EVENTS) res.write(event);
  if (body.stream_options?.include_usage === true) res.write(USAGE_EVENT);
  res.end(DONE_EVENT);
}

function fail(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Chat requests received and failed on purpose, for GET /count. */
const counts = { requests: 0, failed: 0 };

function respond(res: ServerResponse, raw: Buffer): void {
  counts.requests++;
  if (FAIL_RATE > 0 && Math.random() < FAIL_RATE) {
    counts.failed++;
    const body = JSON.stringify({ error: { message: 'bench upstream: injected failure', type: 'server_error', param: null, code: null } });
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  answer(res, raw);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/count') {
    req.resume();
    const body = JSON.stringify(counts);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    req.resume();
    fail(res, 404, 'not found');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (data: Buffer) => chunks.push(data));
  req.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    // No timer at all by default: the zero-latency upstream stays zero-latency.
    if (DELAY_MS > 0) setTimeout(() => respond(res, raw), DELAY_MS);
    else respond(res, raw);
  });
}
const server = createServer({ keepAliveTimeout: 65_000 }, onRequest);
server.listen(Number(values.port ?? 0), values.host);
process.on('SIGTERM', () => process.exit(0));
