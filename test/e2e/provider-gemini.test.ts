import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, BadRequestError, RateLimitError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { CACHED_TOKENS, chatAnswer, countTokens, jsonAnswer, THOUGHT, thoughtSignatureFor } from '../emulators/gemini-answers.js';
import { embeddingVector, MID_STREAM_ERROR, startGeminiEmulator, type GeminiEmulator } from '../emulators/gemini.js';
import { assertNoLeak, assertOpenAiError, failure, gatewayClient, lastBody, type CapturedResponse } from './stack.js';

/**
 * Gemini API and Vertex AI deployments through the gateway, seen by the official openai SDK:
 * what the conformance suite does not already cover — images by URL, embeddings (float and
 * base64), thinking models (reasoning and cached tokens, thought signatures across a tool round
 * trip), blocked prompts, n, logprobs, JSON schemas, field decisions, and every error class.
 */

const KEY = 'AIzaSyE2eUpstreamKey0123456789abcdefghij';
const EMAIL = 'e2e@emu-project.iam.gserviceaccount.com';
const SUBJECT = 'Ist das Gleis frei? 🚦';
const ask: ChatCompletionMessageParam[] = [{ role: 'user', content: SUBJECT }];
const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
};

let gemini: GeminiEmulator;
let vertex: GeminiEmulator;
let gateway: RunningGateway;
let client: OpenAI;
const captured: CapturedResponse[] = [];
const dir = mkdtempSync(join(tmpdir(), 'stellwerk-e2e-gemini-'));

function geminiAlias(name: string, options: { model?: string; key?: string } = {}): string {
  return `
  - name: ${name}
    deployments:
      - provider: gemini
        name: ${name}-deployment
        base_url: ${gemini.geminiBaseUrl}
        model: ${options.model ?? name}
        api_key: ${options.key ?? KEY}`;
}

function vertexAlias(name: string, model: string, file: string): string {
  return `
  - name: ${name}
    deployments:
      - provider: vertex
        base_url: ${vertex.url}
        project: emu-project
        location: europe-west4
        model: ${model}
        credentials_file: ${file}`;
}

before(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  gemini = await startGeminiEmulator({ apiKey: KEY });
  vertex = await startGeminiEmulator({ serviceAccount: { clientEmail: EMAIL, publicKey } });
  const file = join(dir, 'key.json');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(file, JSON.stringify({ type: 'service_account', private_key: pem, client_email: EMAIL, token_uri: vertex.tokenUri }));
  const aliases = ['echo', 'thinking', 'blocked', 'safety', 'fail-403', 'fail-429-retryinfo', 'fail-503', 'leak-key-400', 'error-mid-stream', 'embedder'].map((name) => geminiAlias(name)).join('');
  gateway = await startGateway(
    `models:${aliases}${geminiAlias('wrong-key', { model: 'echo', key: 'AIzaSyNotTheRightKey000000000000000000' })}${vertexAlias('vertex-echo', 'echo', file)}${vertexAlias('vertex-embed', 'text-embedding-005', file)}\n`,
    {},
  );
  client = gatewayClient(gateway, { captured });
});
after(async () => {
  await gateway?.close();
  await gemini?.close();
  await vertex?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The GenerateContentRequest the emulator received last. */
function lastGeminiBody(emulator: GeminiEmulator = gemini): Record<string, any> {
  return emulator.requests.at(-1)!.body as Record<string, any>;
}

describe('gemini through the gateway: what the conformance suite does not cover', () => {
  test('an image by URL goes as fileData with a MIME type from its name', async () => {
    const answer = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: [{ type: 'text', text: SUBJECT }, { type: 'image_url', image_url: { url: 'https://example.com/track.png' } }] }],
    });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(`${SUBJECT} [media]`));
    assert.deepEqual(lastGeminiBody().contents[0].parts[1], { fileData: { fileUri: 'https://example.com/track.png', mimeType: 'image/png' } });
  });

  test('embeddings: base64 as the SDK asks by default, floats on request, one input or several', async () => {
    const decoded = await client.embeddings.create({ model: 'embedder', input: ['a', 'b'], dimensions: 4 });
    assert.equal(gemini.requests.at(-1)!.path, '/v1beta/models/embedder:batchEmbedContents');
    assert.deepEqual(decoded.data.map((item) => item.embedding), [embeddingVector('a', 4), embeddingVector('b', 4)]);
    const floats = await client.embeddings.create({ model: 'embedder', input: 'a', encoding_format: 'float' });
    assert.equal(gemini.requests.at(-1)!.path, '/v1beta/models/embedder:embedContent');
    assert.deepEqual(floats.data[0]!.embedding, embeddingVector('a', 8));
    assert.equal(floats.object, 'list');
    const tokens = await failure(() => client.embeddings.create({ model: 'embedder', input: [[1, 2, 3]] }));
    assert.ok(tokens instanceof BadRequestError);
  });

  test('a thinking model: reasoning and cached tokens in usage, no thoughts in the text', async () => {
    const answer = await client.chat.completions.create({ model: 'thinking', messages: ask, reasoning_effort: 'low' });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(SUBJECT));
    assert.deepEqual(lastGeminiBody().generationConfig, { thinkingConfig: { thinkingBudget: 1024 } });
    const usage = answer.usage!;
    assert.equal(usage.completion_tokens_details?.reasoning_tokens, countTokens(THOUGHT));
    assert.equal(usage.prompt_tokens_details?.cached_tokens, CACHED_TOKENS);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  test('thought signatures survive a tool round trip; a client that drops them gets the documented fallback', async () => {
    const first = await client.chat.completions.create({ model: 'thinking', messages: ask, tools: [WEATHER] });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0]!;
    assert.deepEqual((call as unknown as { extra_content: unknown }).extra_content, { google: { thought_signature: thoughtSignatureFor('get_weather') } });
    const result: ChatCompletionMessageParam = { role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' };
    const second = await client.chat.completions.create({ model: 'thinking', tools: [WEATHER], messages: [...ask, message, result] });
    assert.equal(second.choices[0]!.message.content, chatAnswer('{"sky":"clear"}'));
    assert.equal(lastGeminiBody().contents[1].parts[0].thoughtSignature, thoughtSignatureFor('get_weather'));
    const stripped = { role: 'assistant' as const, content: null, tool_calls: [{ id: call.id, type: 'function' as const, function: (call as { function: { name: string; arguments: string } }).function }] };
    const third = await client.chat.completions.create({ model: 'thinking', tools: [WEATHER], messages: [...ask, stripped, result] });
    assert.equal(third.choices[0]!.finish_reason, 'stop');
    assert.equal(lastGeminiBody().contents[1].parts[0].thoughtSignature, 'skip_thought_signature_validator');
  });

  test('a blocked prompt and a candidate stopped for safety answer with finish "content_filter", whole and streamed', async () => {
    const blocked = await client.chat.completions.create({ model: 'blocked', messages: ask });
    assert.equal(blocked.choices[0]!.finish_reason, 'content_filter');
    assert.equal(blocked.choices[0]!.message.content, '');
    const safety = await client.chat.completions.create({ model: 'safety', messages: ask });
    assert.equal(safety.choices[0]!.finish_reason, 'content_filter');
    let finish: string | null = null;
    for await (const chunk of await client.chat.completions.create({ model: 'blocked', messages: ask, stream: true })) finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, 'content_filter');
  });

  test('n, max_tokens, stop, logprobs and a JSON schema are honoured', async () => {
    const two = await client.chat.completions.create({ model: 'echo', messages: ask, n: 2 });
    assert.deepEqual(two.choices.map((choice) => choice.message.content), [chatAnswer(SUBJECT, 0), chatAnswer(SUBJECT, 1)]);
    const final = await client.chat.completions.stream({ model: 'echo', messages: ask, n: 2 }).finalChatCompletion();
    assert.deepEqual(final.choices.map((choice) => choice.message.content), [chatAnswer(SUBJECT, 0), chatAnswer(SUBJECT, 1)]);
    const short = await client.chat.completions.create({ model: 'echo', messages: ask, max_completion_tokens: 2 });
    assert.equal(short.choices[0]!.finish_reason, 'length');
    assert.equal(short.choices[0]!.message.content, 'Echo[0]: Ist ');
    const stopped = await client.chat.completions.create({ model: 'echo', messages: ask, stop: ['Gleis'] });
    assert.equal(stopped.choices[0]!.message.content, 'Echo[0]: Ist das ');
    const scored = await client.chat.completions.create({ model: 'echo', messages: ask, logprobs: true, top_logprobs: 2 });
    const content = scored.choices[0]!.logprobs!.content!;
    assert.equal(content.map((entry) => entry.token).join(''), chatAnswer(SUBJECT));
    assert.equal(content[0]!.top_logprobs.length, 2);
    const json = await client.chat.completions.create({
      model: 'echo',
      messages: ask,
      response_format: { type: 'json_schema', json_schema: { name: 'echo', schema: { type: 'object', properties: { echo: { type: 'string' } }, additionalProperties: false } } },
    });
    assert.equal(json.choices[0]!.message.content, jsonAnswer(SUBJECT));
    assert.deepEqual(lastGeminiBody().generationConfig.responseSchema, { type: 'OBJECT', properties: { echo: { type: 'STRING' } } });
  });

  test('fields Google cannot honour are refused by name; ignored ones are named in a header', async () => {
    const refused = await failure(() => client.chat.completions.create({ model: 'echo', messages: ask, logit_bias: { '42': 5 } }));
    assert.ok(refused instanceof BadRequestError);
    assert.equal(refused.param, 'logit_bias');
    const { response } = await client.chat.completions.create({ model: 'echo', messages: ask, user: 'u-1', parallel_tool_calls: false, tools: [WEATHER] }).withResponse();
    assert.equal(response.headers.get('x-stellwerk-ignored-params'), 'parallel_tool_calls,user');
  });
});

describe('gemini errors through the gateway', () => {
  async function chatError(model: string): Promise<APIError> {
    const error = await failure(() => client.chat.completions.create({ model, messages: ask }));
    assert.ok(error instanceof APIError, String(error));
    assertNoLeak(JSON.stringify(assertOpenAiError(await lastBody(captured))), [KEY]);
    return error;
  }

  test('403 and a wrong API key (Google\'s 400 API_KEY_INVALID) are the deployment\'s fault: 502', async () => {
    for (const model of ['fail-403', 'wrong-key']) {
      const error = await chatError(model);
      assert.equal(error.status, 502, model);
      assert.match(error.message, /refused the deployment's credentials/);
    }
  });

  test('429 with only RetryInfo: the delay becomes retry-after, rounded up', async () => {
    const error = await chatError('fail-429-retryinfo');
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.headers?.get('retry-after'), '12');
    assert.equal(error.code, 'RESOURCE_EXHAUSTED');
  });

  test('503 is a 502 with Google\'s message; a key in an upstream message is scrubbed', async () => {
    const overloaded = await chatError('fail-503');
    assert.equal(overloaded.status, 502);
    assert.match(overloaded.message, /overloaded/);
    const leaked = await chatError('leak-key-400');
    assert.equal(leaked.status, 400);
    assert.match(leaked.message, /\[redacted\]/);
  });

  test('an error event mid-stream ends the stream with an OpenAI error after the first text', async () => {
    const stream = await client.chat.completions.create({ model: 'error-mid-stream', messages: ask, stream: true });
    let text = '';
    const error = await failure(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    });
    assert.ok(text.length > 0);
    assert.ok(error instanceof APIError, String(error));
    assert.match(String((error as APIError).message), new RegExp(MID_STREAM_ERROR.message.slice(0, 20)));
  });
});

describe('vertex through the gateway', () => {
  test('chat and stream with one access token for all requests; embeddings with Vertex\'s token counts', async () => {
    const whole = await client.chat.completions.create({ model: 'vertex-echo', messages: ask });
    assert.equal(whole.choices[0]!.message.content, chatAnswer(SUBJECT));
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'vertex-echo', messages: ask, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, chatAnswer(SUBJECT));
    assert.equal(vertex.grants.length, 1, 'the token is reused');
    assert.equal(vertex.requests.at(-1)!.path, '/v1/projects/emu-project/locations/europe-west4/publishers/google/models/echo:streamGenerateContent');
    const embedded = await client.embeddings.create({ model: 'vertex-embed', input: ['eins zwei', 'drei'] });
    assert.deepEqual(embedded.data.map((item) => item.embedding), [embeddingVector('eins zwei', 8), embeddingVector('drei', 8)]);
    assert.equal(embedded.usage.prompt_tokens, 3);
  });

  test('a token Vertex no longer accepts is a 502 about the credentials, and the next request fetches a new one', async () => {
    vertex.revokeTokens();
    const grants = vertex.grants.length;
    const error = await failure(() => client.chat.completions.create({ model: 'vertex-echo', messages: ask }));
    assert.ok(error instanceof APIError && error.status === 502, String(error));
    assert.match(error.message, /UNAUTHENTICATED/);
    const answer = await client.chat.completions.create({ model: 'vertex-echo', messages: ask });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(SUBJECT));
    assert.equal(vertex.grants.length, grants + 1);
  });
});
