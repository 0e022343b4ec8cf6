import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  type ConverseCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { ChatRequest } from '../../core/types.js';
import type { UpstreamCall } from '../types.js';
import { BedrockAdapter } from './adapter.js';
import { createSigner, signRequest } from './api.js';

/**
 * What a correct request looks like, according to the official AWS SDK: both the SDK and
 * Stellwerk's adapter send the same input to a capturing server; path, body, the headers
 * Stellwerk signs and the credential scope must agree, and Stellwerk's signing of the SDK's own
 * request must reproduce the SDK's signature exactly.
 */

const CREDENTIALS = { accessKeyId: 'AKIASHAPETEST0000001', secretAccessKey: 'shape/test+secret/key0123456789', sessionToken: 'shape-session-token' };
const REGION = 'eu-west-1';
/** An inference-profile ARN: `:` and `/` must be percent-encoded in the path, and signed so. */
const MODEL = 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0';
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

interface Captured {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const captured: Captured[] = [];
let server: Server;
let endpoint: string;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(type: string, payload: object): Uint8Array {
  const str = (value: string) => ({ type: 'string' as const, value });
  return codec.encode({
    headers: { ':event-type': str(type), ':content-type': str('application/json'), ':message-type': str('event') },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url!.endsWith('/converse-stream')) {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
        res.end(Buffer.concat([frame('messageStart', { role: 'assistant' }), frame('messageStop', { stopReason: 'end_turn' }), frame('metadata', { usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } })]));
      } else if (req.url!.endsWith('/invoke')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ embedding: [0.5], inputTextTokenCount: 1 }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'ok' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function sdk(): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: REGION, endpoint, credentials: CREDENTIALS, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
}

function adapter(model = MODEL, embeddings: 'titan' | null = null): BedrockAdapter {
  return new BedrockAdapter({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    model,
    connections: 2,
    timeouts: { connect_ms: 1_000, first_byte_ms: 5_000, idle_ms: 5_000, total_ms: 10_000 },
    extras: {},
    embeddings,
    cohereInputType: 'search_document',
  });
}

const call: UpstreamCall = { signal: new AbortController().signal, requestId: 'req-shape-1', forwardHeaders: {} };

/** The chat request a client sends, and the Converse input a careful SDK user would write for it. */
const CHAT: ChatRequest = {
  model: 'claude',
  messages: [
    { role: 'system', content: 'You are a signal box.' },
    { role: 'user', content: [{ type: 'text', text: 'Welches Signal? 🚦' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'read_signal', arguments: '{"track":3}' } }] },
    { role: 'tool', tool_call_id: 'tooluse_1', content: 'Hp1' },
  ],
  tools: [{ type: 'function', function: { name: 'read_signal', description: 'Reads a signal', parameters: { type: 'object', properties: { track: { type: 'integer' } } } } }],
  tool_choice: 'required',
  max_tokens: 256,
  temperature: 0.5,
  top_p: 0.9,
  stop: ['Ende'],
  metadata: { team: 'signals' },
};

const CONVERSE: Omit<ConverseCommandInput, 'modelId'> = {
  system: [{ text: 'You are a signal box.' }],
  messages: [
    { role: 'user', content: [{ text: 'Welches Signal? 🚦' }, { image: { format: 'png', source: { bytes: Buffer.from(PIXEL, 'base64') } } }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'read_signal', input: { track: 3 } } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'Hp1' }] } }] },
  ],
  inferenceConfig: { maxTokens: 256, temperature: 0.5, topP: 0.9, stopSequences: ['Ende'] },
  toolConfig: {
    tools: [{ toolSpec: { name: 'read_signal', description: 'Reads a signal', inputSchema: { json: { type: 'object', properties: { track: { type: 'integer' } } } } } }],
    toolChoice: { any: {} },
  },
  requestMetadata: { team: 'signals' },
};

function authParts(header: unknown): { scope: string; signedHeaders: string[]; signature: string } {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(header));
  assert.ok(match, `an AWS4-HMAC-SHA256 authorization header: ${String(header)}`);
  return { scope: match[1]!, signedHeaders: match[2]!.split(';'), signature: match[3]! };
}

/** Compares what Stellwerk sent with what the SDK sent for the same call. */
function assertSameRequest(ours: Captured, theirs: Captured): void {
  assert.equal(ours.method, theirs.method);
  assert.equal(ours.path, theirs.path, 'the same percent-encoded path');
  assert.deepEqual(JSON.parse(ours.body), JSON.parse(theirs.body), 'the same body');
  const mine = authParts(ours.headers.authorization);
  const sdkAuth = authParts(theirs.headers.authorization);
  const withoutDay = (scope: string) => scope.replace(/\/\d{8}\//, '/');
  assert.equal(withoutDay(mine.scope), withoutDay(sdkAuth.scope), 'key, region, service');
  assert.equal(withoutDay(mine.scope), `${CREDENTIALS.accessKeyId}/${REGION}/bedrock/aws4_request`);
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'content-type']) {
    assert.ok(mine.signedHeaders.includes(required), `Stellwerk signs ${required}`);
  }
  for (const name of mine.signedHeaders) {
    if (name === 'x-amz-date' || name === 'x-amz-content-sha256') continue;
    assert.equal(ours.headers[name], theirs.headers[name], `header ${name}`);
  }
  assert.equal(ours.headers['x-amz-content-sha256'], createHash('sha256').update(ours.body).digest('hex'));
}

/** Stellwerk's signing of the SDK's request (same headers, same clock) must give the SDK's signature. */
async function assertSameSignature(theirs: Captured): Promise<void> {
  const { signedHeaders } = authParts(theirs.headers.authorization);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) if (name !== 'x-amz-date') headers[name] = String(theirs.headers[name]);
  const date = String(theirs.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const signed = await signRequest(await createSigner(CREDENTIALS, REGION), { method: theirs.method, url: new URL(endpoint), path: theirs.path, headers, body: theirs.body }, new Date(date));
  assert.equal(signed.authorization, theirs.headers.authorization);
}

test('Converse: the same path (ARN encoded), body and signed headers as the AWS SDK; the same signature for the same request', async () => {
  const client = sdk();
  await client.send(new ConverseCommand({ modelId: MODEL, ...CONVERSE }));
  const theirs = captured.at(-1)!;
  const stellwerk = adapter();
  await stellwerk.chat(CHAT, call);
  const ours = captured.at(-1)!;
  assert.match(ours.path, /^\/model\/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Ainference-profile%2Feu\.anthropic\.[^/]+%3A0\/converse$/);
  assertSameRequest(ours, theirs);
  await assertSameSignature(theirs);
  client.destroy();
  await stellwerk.close();
});

test('ConverseStream: the same path and body as the AWS SDK', async () => {
  const client = sdk();
  const response = await client.send(new ConverseStreamCommand({ modelId: MODEL, ...CONVERSE }));
  for await (const _ of response.stream!) void _;
  const theirs = captured.at(-1)!;
  const stellwerk = adapter();
  for await (const _ of await stellwerk.chatStream({ ...CHAT, stream: true, stream_options: { include_usage: true } }, call)) void _;
  const ours = captured.at(-1)!;
  assert.ok(ours.path.endsWith('/converse-stream'));
  assertSameRequest(ours, theirs);
  await assertSameSignature(theirs);
  client.destroy();
  await stellwerk.close();
});

test('InvokeModel (Titan V2): the same path, body and content type as the AWS SDK', async () => {
  const model = 'amazon.titan-embed-text-v2:0';
  const client = sdk();
  const body = JSON.stringify({ inputText: 'Hp0', dimensions: 256, normalize: true });
  await client.send(new InvokeModelCommand({ modelId: model, contentType: 'application/json', accept: 'application/json', body }));
  const theirs = captured.at(-1)!;
  const stellwerk = adapter(model, 'titan');
  await stellwerk.embeddings!({ model: 'e', input: 'Hp0', dimensions: 256 }, call);
  const ours = captured.at(-1)!;
  assert.equal(ours.path, '/model/amazon.titan-embed-text-v2%3A0/invoke');
  assertSameRequest(ours, theirs);
  assert.equal(ours.headers.accept, theirs.headers.accept);
  await assertSameSignature(theirs);
  client.destroy();
  await stellwerk.close();
});
