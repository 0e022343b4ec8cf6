import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { chatAnswer, completionText, embeddingVector } from '../emulators/openai-answers.js';
import { CLIENT_ID, startAzureEmulator, TENANT, type AzureEmulator } from '../emulators/azure.js';
import { assertNoLeak, collect, failure, gatewayClient } from './stack.js';

/**
 * Azure through the gateway with the official OpenAI SDK as client, for what the conformance suite
 * does not cover: content-filter results and refusals, embeddings, legacy completions, the error
 * classes, older api-versions, and Entra ID tokens (one fetch for many requests, refresh near expiry,
 * a failing token endpoint).
 */

const KEY = 'azure-e2e-key-8d7c6b5a4f3e2d1c';
const SECRET = 'entra-e2e-secret-1a2b3c4d5e';
let keyed: AzureEmulator;
let entra: AzureEmulator;
let gateway: RunningGateway;
let client: OpenAI;

function deployment(alias: string, lines: string[]): string {
  return `  - name: ${alias}\n    deployments:\n      - provider: azure\n${lines.map((line) => `        ${line}\n`).join('')}`;
}

before(async () => {
  keyed = await startAzureEmulator({ apiKey: KEY });
  entra = await startAzureEmulator({ apiKey: KEY, clientSecret: SECRET, tokenLifetimeS: 2, tokenDelayMs: 30 });
  const byKey = (alias: string, name: string, more: string[] = []) =>
    deployment(alias, [`name: ${alias}-deployment`, `endpoint: ${keyed.url}`, `deployment: ${name}`, `api_key: ${KEY}`, ...more]);
  const byEntra = (alias: string, secret: string) =>
    deployment(alias, [
      `endpoint: ${entra.url}`,
      'api_version: v1',
      'model: echo',
      `entra: { tenant_id: ${TENANT}, client_id: ${CLIENT_ID}, client_secret: ${secret}, authority_host: '${entra.url}' }`,
    ]);
  const config = [
    byKey('chat', 'echo'),
    byKey('embed', 'embed'),
    byKey('instruct', 'instruct'),
    byKey('old-version', 'echo', ['api_version: 2024-06-01', 'stream_usage: false']),
    byKey('old-version-usage', 'echo', ['api_version: 2024-06-01']),
    byKey('filtered-output', 'filtered-output'),
    byKey('missing', 'missing'),
    ...['fail-400', 'fail-401', 'fail-429', 'fail-500'].map((fault) => byKey(fault, fault)),
    byEntra('entra', SECRET),
    byEntra('entra-wrong-secret', `${SECRET}-wrong`),
  ].join('');
  gateway = await startGateway(`models:\n${config}`, {});
  client = gatewayClient(gateway);
});
after(async () => {
  await gateway?.close();
  await keyed?.close();
  await entra?.close();
});

const SUBJECT = 'Wer darf passieren? 🚂';
const messages = [{ role: 'user' as const, content: SUBJECT }];

describe('azure: answers and content filtering', () => {
  test("Azure's filter annotations reach the client untouched", async () => {
    const answer = await client.chat.completions.create({ model: 'chat', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(SUBJECT));
    const raw = answer as unknown as { prompt_filter_results: { content_filter_results: Record<string, unknown> }[]; choices: { content_filter_results: Record<string, unknown> }[] };
    assert.deepEqual(raw.prompt_filter_results[0]!.content_filter_results.jailbreak, { filtered: false, detected: false });
    assert.deepEqual(raw.choices[0]!.content_filter_results.hate, { filtered: false, severity: 'safe' });
  });

  test("streams: the prompt-filter chunk arrives as a chat.completion.chunk, usage only when asked", async () => {
    const chunks = await collect(await client.chat.completions.create({ model: 'chat', messages, stream: true }));
    assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
    assert.ok((chunks[0] as unknown as { prompt_filter_results?: unknown[] }).prompt_filter_results?.length === 1);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chatAnswer(SUBJECT));
    assert.ok(chunks.every((chunk) => chunk.usage == null));
  });

  test('an answer cut by the output filter keeps finish_reason "content_filter", whole and streamed', async () => {
    const whole = await client.chat.completions.create({ model: 'filtered-output', messages });
    assert.equal(whole.choices[0]!.finish_reason, 'content_filter');
    const chunks = await collect(await client.chat.completions.create({ model: 'filtered-output', messages, stream: true }));
    assert.equal(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]!.finish_reason, 'content_filter');
  });

  test('a prompt refused by the filter is a 400 with code content_filter naming the categories', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'FILTER-ME please' }] }));
    assert.ok(error instanceof BadRequestError, String(error));
    assert.equal(error.code, 'content_filter');
    assert.equal(error.param, 'prompt');
    assert.match(error.message, /content management policy.*\(filtered: violence, jailbreak\)$/s);
  });

  test('an http image part and a data URL travel unchanged', async () => {
    const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/stellwerk.png', detail: 'low' as const } };
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: [{ type: 'text', text: SUBJECT }, image] }] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    const sent = keyed.requests.at(-1)!.body as { messages: { content: unknown[] }[] };
    assert.deepEqual(sent.messages[0]!.content[1], image);
  });
});

describe('azure: embeddings, completions, api versions', () => {
  test('embeddings: base64 as the SDK asks by default, and float', async () => {
    const decoded = await client.embeddings.create({ model: 'embed', input: 'Stellwerk' });
    assert.deepEqual(decoded.data[0]!.embedding, embeddingVector('Stellwerk', 8));
    assert.equal((keyed.requests.at(-1)!.body as { encoding_format: string }).encoding_format, 'base64');
    const float = await client.embeddings.create({ model: 'embed', input: ['a', 'b'], encoding_format: 'float' });
    assert.deepEqual(float.data.map((item) => item.embedding), [embeddingVector('a', 8), embeddingVector('b', 8)]);
    assert.equal(keyed.requests.at(-1)!.path, '/openai/deployments/embed/embeddings');
  });

  test('legacy completions, whole and streamed', async () => {
    const whole = await client.completions.create({ model: 'instruct', prompt: 'Say hi' });
    assert.equal(whole.choices[0]!.text, completionText('Say hi'));
    let text = '';
    for await (const chunk of await client.completions.create({ model: 'instruct', prompt: 'Say hi', stream: true })) text += chunk.choices[0]?.text ?? '';
    assert.equal(text, completionText('Say hi'));
  });

  test('an older api-version: stream_usage false streams without stream_options; left on, Azure refuses it', async () => {
    const chunks: ChatCompletionChunk[] = await collect(await client.chat.completions.create({ model: 'old-version', messages, stream: true }));
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chatAnswer(SUBJECT));
    const sent = keyed.requests.at(-1)!;
    assert.equal(sent.query.get('api-version'), '2024-06-01');
    assert.equal((sent.body as Record<string, unknown>).stream_options, undefined);
    const error = await failure(async () => collect(await client.chat.completions.create({ model: 'old-version-usage', messages, stream: true })));
    assert.ok(error instanceof BadRequestError);
    assert.match(error.message, /Unrecognized request argument supplied: stream_options/);
  });
});

describe('azure: errors', () => {
  test('400 passes through, 429 keeps retry-after and retry-after-ms', async () => {
    const bad = await failure(() => client.chat.completions.create({ model: 'fail-400', messages }));
    assert.ok(bad instanceof BadRequestError);
    assert.equal(bad.code, 'context_length_exceeded');
    const limited = await failure(() => client.chat.completions.create({ model: 'fail-429', messages }));
    assert.ok(limited instanceof RateLimitError);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(limited.headers.get('retry-after-ms'), '7000');
  });

  test("401, 500 and a missing Azure deployment are the gateway's problem: 502, without the key", async () => {
    for (const alias of ['fail-401', 'fail-500', 'missing']) {
      const error = await failure(() => client.chat.completions.create({ model: alias, messages }));
      assert.ok(error instanceof APIError && error.status === 502, `${alias}: ${String(error)}`);
      assertNoLeak(JSON.stringify(error.error), [KEY]);
    }
    const missing = await failure(() => client.chat.completions.create({ model: 'missing', messages }));
    assert.match((missing as APIError).message, /DeploymentNotFound/);
  });
});

describe('azure: Entra ID', () => {
  test('many requests, concurrent and in a row, share one token', async () => {
    const before = entra.tokenRequests.length;
    const answers = await Promise.all(Array.from({ length: 12 }, () => client.chat.completions.create({ model: 'entra', messages })));
    for (let i = 0; i < 3; i++) answers.push(await client.chat.completions.create({ model: 'entra', messages }));
    assert.ok(answers.every((answer) => answer.choices[0]!.message.content === chatAnswer(SUBJECT)));
    assert.equal(entra.tokenRequests.length - before, 1, 'one token fetch');
    const sent = entra.requests.at(-1)!;
    assert.match(sent.headers.authorization!, /^Bearer eyJ/);
    assert.equal(sent.path, '/openai/v1/chat/completions');
  });

  test('a token is replaced near its expiry (halfway through a 2 s life), and requests keep working', async () => {
    await client.chat.completions.create({ model: 'entra', messages });
    const before = entra.tokenRequests.length;
    const firstToken = entra.requests.at(-1)!.headers.authorization;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await Promise.all(Array.from({ length: 5 }, () => client.chat.completions.create({ model: 'entra', messages })));
    assert.equal(entra.tokenRequests.length - before, 1, 'one refresh for the five requests');
    assert.notEqual(entra.requests.at(-1)!.headers.authorization, firstToken);
  });

  test('a token endpoint that refuses the secret: 502 with a clear message, the secret never shown', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'entra-wrong-secret', messages }));
    assert.ok(error instanceof APIError && error.status === 502, String(error));
    assert.match(error.message, /Entra ID refused the deployment's token request \(HTTP 401\): invalid_client: AADSTS7000215/);
    assertNoLeak(JSON.stringify(error.error), [`${SECRET}-wrong`]);
    for (const line of gateway.logs) assertNoLeak(JSON.stringify(line), [SECRET, `${SECRET}-wrong`, KEY]);
  });
});
