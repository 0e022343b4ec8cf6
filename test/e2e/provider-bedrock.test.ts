import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError, BadRequestError, NotFoundError, RateLimitError } from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startBedrockEmulator, type BedrockEmulator, type BedrockRecordedRequest } from '../emulators/bedrock.js';
import { echoText } from '../emulators/bedrock-answers.js';
import { embeddingVector } from '../emulators/openai-answers.js';
import { assertNoLeak, failure, within } from './stack.js';

/**
 * Bedrock through the gateway, seen by the official `openai` SDK, beyond what the conformance
 * suite covers: images, embeddings (Titan and Cohere, float and base64), every error class of
 * Bedrock, exceptions inside streams, signing with session tokens and ARN model ids, credentials
 * that are missing or wrong, and the fields Converse cannot honour.
 */

const CREDENTIALS = { accessKeyId: 'AKIAE2EBEDROCK000001', secretAccessKey: 'e2e/bedrock+secret/key/0123456789', sessionToken: 'e2e-bedrock-session-token-0042' };
const REGION = 'eu-central-1';
const ARN = 'arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0';
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const SECRETS = [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken];

let emulator: BedrockEmulator;
let gateway: RunningGateway;
let client: OpenAI;

function deployment(model: string, overrides: Partial<Record<'secret' | 'credentials', string>> = {}): string {
  const credentials =
    overrides.credentials ??
    [
      `        access_key_id: ${CREDENTIALS.accessKeyId}`,
      `        secret_access_key: "${overrides.secret ?? CREDENTIALS.secretAccessKey}"`,
      `        session_token: ${CREDENTIALS.sessionToken}`,
    ].join('\n');
  return `      - provider: bedrock\n        model: "${model}"\n        region: ${REGION}\n        endpoint: ${emulator.url}\n${credentials}\n        timeouts: { idle_ms: 2000 }`;
}

const ALIASES: Record<string, string> = {
  echo: 'echo',
  arn: ARN,
  cached: 'echo-cached',
  titan: 'amazon.titan-embed-text-v2:0',
  'titan-g1': 'amazon.titan-embed-text-v1',
  cohere: 'cohere.embed-multilingual-v3',
};
const FAULTS = ['fail-400', 'fail-401', 'fail-403', 'fail-404', 'fail-408', 'fail-424', 'fail-429', 'fail-500', 'fail-503', 'leak-400'];
const STREAM_FAULTS = ['stream-throttle', 'stream-validation', 'stream-model-error', 'stream-internal', 'stream-cut', 'stream-no-usage', 'stream-reset', 'stream-corrupt', 'stream-not-eventstream', 'stream-slow'];

before(async () => {
  // The no-credentials deployment must not find any in this process's environment either.
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
  emulator = await startBedrockEmulator({ ...CREDENTIALS, region: REGION, slowFrameMs: 20 });
  const models = [
    ...Object.entries(ALIASES).map(([alias, model]) => [alias, deployment(model)] as const),
    ...[...FAULTS, ...STREAM_FAULTS].map((model) => [model, deployment(model)] as const),
    ['wrong-secret', deployment('echo', { secret: 'not/the/secret' })] as const,
    ['no-credentials', deployment('echo', { credentials: '        max_connections: 4' })] as const,
  ];
  gateway = await startGateway(`models:\n${models.map(([name, text]) => `  - name: ${name}\n    deployments:\n${text}\n`).join('')}`, {});
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
after(async () => {
  await gateway?.close();
  await emulator?.close();
});

function lastRequest(modelId: string): BedrockRecordedRequest {
  const found = emulator.requests.filter((request) => request.modelId === modelId).at(-1);
  assert.ok(found, `a request for ${modelId} reached the emulator`);
  return found;
}

describe('bedrock through the gateway, with the openai SDK', () => {
  test('a data-URL image travels as image bytes; an http URL is refused before any upstream call', async () => {
    const answer = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Was zeigt das Signal?' }, { type: 'image_url', image_url: { url: PIXEL } }] }],
    });
    assert.equal(answer.choices[0]!.message.content, echoText('Was zeigt das Signal? [image]'));
    const sent = lastRequest('echo').body as { messages: { content: unknown[] }[] };
    assert.deepEqual(sent.messages[0]!.content[1], { image: { format: 'png', source: { bytes: PIXEL.split(',')[1] } } });
    const before = emulator.requests.length;
    const error = await failure(() =>
      client.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'https://example.com/signal.png' } }] }],
      }),
    );
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.param, 'messages[0].content[1].image_url.url');
    assert.match(error.message, /image bytes only/);
    assert.equal(emulator.requests.length, before);
  });

  test('an ARN model id is encoded in the path and signed so (the emulator checks the signature)', async () => {
    const answer = await client.chat.completions.create({ model: 'arn', messages: [{ role: 'user', content: 'Hp0?' }] });
    assert.equal(answer.choices[0]!.message.content, echoText('Hp0?'));
    assert.equal(answer.model, ARN);
    const sent = lastRequest(ARN);
    assert.equal(sent.problem, null);
    assert.ok(sent.path.includes('arn%3Aaws%3Abedrock%3Aeu-central-1%3A123456789012%3Ainference-profile%2Feu.'));
    assert.equal(sent.headers['x-amz-security-token'], CREDENTIALS.sessionToken);
  });

  test('finish reasons: max_tokens is "length", a stop sequence "stop"; cache reads are cached_tokens', async () => {
    const short = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'eins zwei drei vier' }], max_tokens: 2 });
    assert.equal(short.choices[0]!.finish_reason, 'length');
    assert.equal(short.choices[0]!.message.content, 'Echo: eins ');
    const stopped = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'eins zwei' }], stop: 'zwei' });
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    const cached = await client.chat.completions.create({ model: 'cached', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(cached.usage!.prompt_tokens_details?.cached_tokens, 5);
  });

  test('fields: n > 1 and json_object are refused, json_schema is structured output, ignored fields are named', async () => {
    const many = await failure(() => client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }], n: 2 }));
    assert.ok(many instanceof BadRequestError && many.param === 'n');
    const jsonObject = await failure(() => client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }));
    assert.ok(jsonObject instanceof BadRequestError && jsonObject.param === 'response_format');
    const probabilities = await failure(() => client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }));
    assert.ok(probabilities instanceof BadRequestError && probabilities.param === 'top_logprobs');
    const { data, response } = await client.chat.completions
      .create({
        model: 'echo',
        messages: [{ role: 'user', content: 'Köln' }],
        seed: 7,
        user: 'u-1',
        response_format: { type: 'json_schema', json_schema: { name: 'echo', schema: { type: 'object', properties: { echo: { type: 'string' } } } } },
      })
      .withResponse();
    assert.deepEqual(JSON.parse(data.choices[0]!.message.content!), { echo: 'Köln' });
    assert.equal(response.headers.get('x-stellwerk-ignored-params'), 'seed,user');
  });

  test('tool_choice: "none" sends no tools; a named function becomes toolChoice.tool', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const none = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'Wetter?' }], tools, tool_choice: 'none' });
    assert.equal(none.choices[0]!.finish_reason, 'stop');
    assert.equal((lastRequest('echo').body as Record<string, unknown>).toolConfig, undefined);
    const named = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'Wetter?' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    assert.equal(named.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual((lastRequest('echo').body as { toolConfig: { toolChoice: unknown } }).toolConfig.toolChoice, { tool: { name: 'get_weather' } });
  });

  test('Titan embeddings: one call per input, base64 (the SDK default) and floats, usage summed', async () => {
    const calls = emulator.requests.length;
    const answer = await client.embeddings.create({ model: 'titan', input: ['Hp0', 'Hp1 Zs3'], dimensions: 256 });
    assert.deepEqual(answer.data.map((item) => item.embedding), [embeddingVector('Hp0', 256), embeddingVector('Hp1 Zs3', 256)]);
    assert.equal(answer.usage.prompt_tokens, 3);
    assert.equal(emulator.requests.length - calls, 2);
    assert.deepEqual(lastRequest('amazon.titan-embed-text-v2:0').body, { inputText: 'Hp1 Zs3', dimensions: 256, normalize: true });
    const floats = await client.embeddings.create({ model: 'titan', input: 'Hp0', encoding_format: 'float', dimensions: 512 });
    assert.deepEqual(floats.data[0]!.embedding, embeddingVector('Hp0', 512));
    const g1 = await failure(() => client.embeddings.create({ model: 'titan-g1', input: 'x', dimensions: 256 }));
    assert.ok(g1 instanceof BadRequestError && g1.param === 'dimensions');
    const tokens = await failure(() => client.embeddings.create({ model: 'titan', input: [1, 2, 3] }));
    assert.ok(tokens instanceof BadRequestError && tokens.param === 'input');
  });

  test('Cohere embeddings: one call for the batch with input_type, token count from the response header', async () => {
    const calls = emulator.requests.length;
    const answer = await client.embeddings.create({ model: 'cohere', input: ['Ks1', 'Sh0'] });
    assert.deepEqual(answer.data.map((item) => item.embedding), [embeddingVector('Ks1', 1024), embeddingVector('Sh0', 1024)]);
    assert.equal(answer.usage.prompt_tokens, 2);
    assert.equal(emulator.requests.length - calls, 1);
    assert.deepEqual(lastRequest('cohere.embed-multilingual-v3').body, { texts: ['Ks1', 'Sh0'], input_type: 'search_document' });
  });

  test('a chat model does not serve embeddings', async () => {
    const error = await failure(() => client.embeddings.create({ model: 'echo', input: 'x' }));
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, 'unsupported_endpoint');
  });

  test('every Bedrock error class: status, code and message as the gateway maps them, no secret in sight', async () => {
    const expectations: [string, number, RegExp][] = [
      ['fail-400', 400, /Malformed input request/],
      ['fail-401', 502, /HTTP 403 UnrecognizedClientException/],
      ['fail-403', 502, /HTTP 403 AccessDeniedException/],
      ['fail-404', 404, /Could not resolve the foundation model/],
      ['fail-408', 504, /ModelTimeoutException/],
      ['fail-424', 502, /HTTP 424 ModelErrorException/],
      ['fail-429', 429, /Too many requests/],
      ['fail-500', 502, /HTTP 500 InternalServerException/],
      ['fail-503', 502, /HTTP 503 ServiceUnavailableException/],
      ['wrong-secret', 502, /HTTP 403 InvalidSignatureException/],
    ];
    for (const [model, status, message] of expectations) {
      const error = await failure(() => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }));
      assert.ok(error instanceof APIError, `${model}: ${String(error)}`);
      assert.equal(error.status, status, model);
      assert.match(error.message, message, model);
      assertNoLeak(JSON.stringify(error.error), SECRETS);
    }
    const bad = await failure(() => client.chat.completions.create({ model: 'fail-400', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(bad instanceof BadRequestError);
    const limited = (await failure(() => client.chat.completions.create({ model: 'fail-429', messages: [{ role: 'user', content: 'x' }] }))) as RateLimitError;
    assert.equal(limited.status, 429);
    const missing = await failure(() => client.chat.completions.create({ model: 'fail-404', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(missing instanceof NotFoundError);
    assert.equal(missing.code, 'ResourceNotFoundException');
    assert.match(lastRequest('echo').problem ?? '', /^InvalidSignatureException/, 'the wrong secret was refused by the emulator');
  });

  test('400 relays keep ValidationException as the code; secrets in upstream messages are scrubbed', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'leak-400', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.code, 'ValidationException');
    assert.match(error.message, /Token \[redacted\] and key \[redacted\]/);
    assertNoLeak(JSON.stringify(error.error), SECRETS);
  });

  test('a deployment without credentials is not used, and the answer says why', async () => {
    const error = await failure(() => client.chat.completions.create({ model: 'no-credentials', messages: [{ role: 'user', content: 'x' }] }));
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 503);
    assert.match(error.message, /no AWS credentials/);
  });

  test('an exception as the first stream frame keeps its status: throttling 429, validation 400', async () => {
    const throttled = await failure(() => client.chat.completions.create({ model: 'stream-throttle', messages: [{ role: 'user', content: 'x' }], stream: true }));
    assert.ok(throttled instanceof RateLimitError, String(throttled));
    assert.equal(throttled.code, 'ThrottlingException');
    const invalid = await failure(() => client.chat.completions.create({ model: 'stream-validation', messages: [{ role: 'user', content: 'x' }], stream: true }));
    assert.ok(invalid instanceof BadRequestError, String(invalid));
    assert.match(invalid.message, /Input is too long/);
  });

  test('failures in the middle of a stream end it with an error event after the text so far', async () => {
    const cases: [string, RegExp][] = [
      ['stream-model-error', /ModelStreamErrorException/],
      ['stream-internal', /InternalServerException/],
      ['stream-cut', /before the answer was complete/],
      ['stream-no-usage', /without reporting token usage/],
      ['stream-corrupt', /corrupt/],
      ['stream-reset', /connection|broke|failed|middle/i],
    ];
    for (const [model, message] of cases) {
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Zug nach Köln' }], stream: true });
      let text = '';
      const error = await failure(async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      });
      assert.ok(error instanceof APIError, `${model}: ${String(error)}`);
      assert.match(error.message, message, model);
      assert.ok(echoText('Zug nach Köln').startsWith(text), `${model}: the text so far is a prefix`);
    }
    const notStream = await failure(() => client.chat.completions.create({ model: 'stream-not-eventstream', messages: [{ role: 'user', content: 'x' }], stream: true }));
    assert.ok(notStream instanceof APIError && notStream.status === 502, String(notStream));
  });

  test('a client that leaves a stream aborts the upstream call', async () => {
    const stream = await client.chat.completions.create({ model: 'stream-slow', messages: [{ role: 'user', content: 'lang' }], stream: true });
    let pieces = 0;
    // Leaving the loop makes the SDK abort its request, as an application that stops reading does.
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) pieces++;
      if (pieces === 3) break;
    }
    const end = await within(lastRequest('stream-slow').closed, 3_000, 'the upstream exchange to close');
    assert.equal(end.aborted, true);
  });
});
