import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { AuthenticationError, AzureOpenAI, BadRequestError, InternalServerError, NotFoundError, RateLimitError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { chatAnswer, embeddingVector, toolArguments } from './openai-answers.js';
import { AZURE_ANSWER_MODEL, CLIENT_ID, startAzureEmulator, TENANT, type AzureEmulator } from './azure.js';

/**
 * The official SDK judges the Azure emulator: `AzureOpenAI` (deployment URLs, api-version, api-key
 * or an Entra token provider) and, for the v1 API, the plain `OpenAI` client as Microsoft documents.
 */

const KEY = 'azure-emulator-key-0123456789abcdef';
const VERSION = '2024-10-21';
let emulator: AzureEmulator;
let client: AzureOpenAI;

before(async () => {
  emulator = await startAzureEmulator({ apiKey: KEY, clientSecret: 'entra-secret' });
  client = new AzureOpenAI({ endpoint: emulator.url, apiKey: KEY, apiVersion: VERSION, deployment: 'echo', maxRetries: 0 });
});
after(() => emulator.close());

const messages = [{ role: 'user' as const, content: 'Grüße aus dem Stellwerk 🚂' }];
const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** An Entra ID token from the emulator's token endpoint, as @azure/identity would fetch it. */
async function entraToken(): Promise<string> {
  const response = await fetch(`${emulator.url}/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'entra-secret', scope: 'https://cognitiveservices.azure.com/.default' }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number };
  assert.equal(body.token_type, 'Bearer');
  return body.access_token;
}

describe('azure emulator, judged by the openai SDK', () => {
  test('chat through AzureOpenAI: deployment path, api-version, api-key; content-filter annotations', async () => {
    const answer = await client.chat.completions.create({ model: 'ignored-by-azure', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(messages[0]!.content));
    assert.equal(answer.model, AZURE_ANSWER_MODEL);
    const raw = answer as unknown as { prompt_filter_results: unknown[]; choices: { content_filter_results: unknown }[] };
    assert.equal(raw.prompt_filter_results.length, 1);
    assert.ok(raw.choices[0]!.content_filter_results);
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.path, '/openai/deployments/echo/chat/completions');
    assert.equal(recorded.query.get('api-version'), VERSION);
    assert.equal(recorded.headers['api-key'], KEY);
    assert.equal(recorded.headers.authorization, undefined);
    assert.equal(recorded.problem, null);
  });

  test('the stream helper accumulates the stream, prompt-filter chunk included, into the whole answer', async () => {
    const chunks: ChatCompletionChunk[] = [];
    const stream = client.chat.completions.stream({ model: 'x', messages, stream_options: { include_usage: true } });
    stream.on('chunk', (chunk) => chunks.push(chunk));
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, chatAnswer(messages[0]!.content));
    assert.equal(chunks[0]!.object as string, '', 'Azure sends the prompt-filter chunk with an empty object');
    assert.deepEqual(chunks[0]!.choices, []);
    assert.ok(chunks.at(-1)!.usage!.total_tokens > 0);
  });

  test('tools, whole and streamed', async () => {
    const whole = await client.chat.completions.create({ model: 'x', messages, tools: [weather] });
    const call = whole.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.arguments, toolArguments(messages[0]!.content, 'get_weather'));
    const final = await client.chat.completions.stream({ model: 'x', messages, tools: [weather] }).finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
  });

  test('embeddings: base64 as the SDK asks by default, and float', async () => {
    const embeddings = new AzureOpenAI({ endpoint: emulator.url, apiKey: KEY, apiVersion: VERSION, deployment: 'embed', maxRetries: 0 });
    const decoded = await embeddings.embeddings.create({ model: 'embed', input: 'a' });
    assert.deepEqual(decoded.data[0]!.embedding, embeddingVector('a', 8));
    const float = await embeddings.embeddings.create({ model: 'embed', input: ['a'], encoding_format: 'float' });
    assert.deepEqual(float.data[0]!.embedding, embeddingVector('a', 8));
    assert.equal(emulator.requests.at(-1)!.path, '/openai/deployments/embed/embeddings');
  });

  test('Azure error bodies become the SDK error classes', async () => {
    const on = (deployment: string) => new AzureOpenAI({ endpoint: emulator.url, apiKey: KEY, apiVersion: VERSION, deployment, maxRetries: 0 });
    await assert.rejects(on('fail-400').chat.completions.create({ model: 'x', messages }), BadRequestError);
    await assert.rejects(on('fail-401').chat.completions.create({ model: 'x', messages }), AuthenticationError);
    await assert.rejects(on('fail-429').chat.completions.create({ model: 'x', messages }), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.headers.get('retry-after'), '7');
      return true;
    });
    await assert.rejects(on('fail-500').chat.completions.create({ model: 'x', messages }), InternalServerError);
    await assert.rejects(on('missing').chat.completions.create({ model: 'x', messages }), NotFoundError);
    await assert.rejects(on('content-filter').chat.completions.create({ model: 'x', messages }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 'content_filter');
      const inner = (error.error as { innererror: { content_filter_result: { jailbreak: { filtered: boolean } } } }).innererror;
      assert.equal(inner.content_filter_result.jailbreak.filtered, true);
      return true;
    });
  });

  test('an output cut by the filter ends with finish_reason "content_filter", whole and streamed', async () => {
    const cut = new AzureOpenAI({ endpoint: emulator.url, apiKey: KEY, apiVersion: VERSION, deployment: 'filtered-output', maxRetries: 0 });
    const whole = await cut.chat.completions.create({ model: 'x', messages });
    assert.equal(whole.choices[0]!.finish_reason, 'content_filter');
    const final = await cut.chat.completions.stream({ model: 'x', messages }).finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'content_filter');
  });

  test('a wrong key, no api-version, or an unknown field are refused as Azure does', async () => {
    const wrong = new AzureOpenAI({ endpoint: emulator.url, apiKey: 'wrong-key', apiVersion: VERSION, deployment: 'echo', maxRetries: 0 });
    await assert.rejects(wrong.chat.completions.create({ model: 'x', messages }), AuthenticationError);
    const bare = new OpenAI({ baseURL: `${emulator.url}/openai/deployments/echo`, apiKey: KEY, defaultHeaders: { 'api-key': KEY }, maxRetries: 0 });
    await assert.rejects(bare.chat.completions.create({ model: 'x', messages }), NotFoundError);
    await assert.rejects(client.chat.completions.create({ model: 'x', messages, web_search_options: {} }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.match(error.message, /Unrecognized request argument supplied: web_search_options/);
      return true;
    });
    const old = new AzureOpenAI({ endpoint: emulator.url, apiKey: KEY, apiVersion: '2024-06-01', deployment: 'echo', maxRetries: 0 });
    await assert.rejects(old.chat.completions.create({ model: 'x', messages, stream: true, stream_options: { include_usage: true } }), /stream_options/);
  });

  test('Entra ID: a token from the token endpoint works as a bearer token', async () => {
    const entra = new AzureOpenAI({ endpoint: emulator.url, azureADTokenProvider: entraToken, apiVersion: VERSION, deployment: 'echo', maxRetries: 0 });
    const answer = await entra.chat.completions.create({ model: 'x', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(messages[0]!.content));
    const recorded = emulator.requests.at(-1)!;
    assert.match(recorded.headers.authorization!, /^Bearer eyJ/);
    assert.equal(recorded.headers['api-key'], undefined);
    const forged = new AzureOpenAI({ endpoint: emulator.url, azureADTokenProvider: async () => 'forged', apiVersion: VERSION, deployment: 'echo', maxRetries: 0 });
    await assert.rejects(forged.chat.completions.create({ model: 'x', messages }), AuthenticationError);
    const refused = await fetch(`${emulator.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'wrong', scope: 'https://cognitiveservices.azure.com/.default' }),
    });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
  });

  test('the v1 API through the plain OpenAI client: model in the body, the key as bearer, no api-version', async () => {
    const v1 = new OpenAI({ baseURL: `${emulator.url}/openai/v1/`, apiKey: KEY, maxRetries: 0 });
    const answer = await v1.chat.completions.create({ model: 'echo', messages });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(messages[0]!.content));
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.path, '/openai/v1/chat/completions');
    assert.equal(recorded.query.get('api-version'), null);
    let text = '';
    for await (const chunk of await v1.chat.completions.create({ model: 'echo', messages, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, chatAnswer(messages[0]!.content));
    await assert.rejects(v1.chat.completions.create({ model: 'fail-429', messages }), RateLimitError);
  });
});
