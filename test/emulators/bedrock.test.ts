import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  type ConverseStreamOutput,
  type Message,
  type Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { BAD_REQUEST_MESSAGE, startBedrockEmulator, type BedrockEmulator } from './bedrock.js';
import { echoText, echoToolInput, toolUseId } from './bedrock-answers.js';
import { embeddingVector } from './openai-answers.js';

/**
 * The official AWS SDK judges the Bedrock emulator: its requests (signed by the SDK's own signer)
 * must be accepted, its answers and binary event streams must parse into what the SDK's types
 * promise, and its errors must become the SDK's own exception classes.
 */

const CREDENTIALS = { accessKeyId: 'AKIAEMULATORTEST0001', secretAccessKey: 'emulator/secret+key/0123456789abcdefABCDEF', sessionToken: 'emulator-session-token-42' };
const REGION = 'eu-central-1';
const SUBJECT = 'Grüße aus dem Stellwerk 🚂';
const ARN = 'arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0';

let emulator: BedrockEmulator;
let client: BedrockRuntimeClient;

function sdkClient(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: REGION, endpoint: emulator.url, credentials, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
}

before(async () => {
  emulator = await startBedrockEmulator({ ...CREDENTIALS, region: REGION, slowFrameMs: 5 });
  client = sdkClient(CREDENTIALS);
});
after(async () => {
  client.destroy();
  await emulator.close();
});

const ask: Message[] = [{ role: 'user', content: [{ text: SUBJECT }] }];
const WEATHER: Tool = {
  toolSpec: { name: 'get_weather', description: 'The weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } },
};

async function streamEvents(modelId: string, messages: Message[] = ask, tools?: Tool[]): Promise<ConverseStreamOutput[]> {
  const response = await client.send(new ConverseStreamCommand({ modelId, messages, ...(tools === undefined ? {} : { toolConfig: { tools } }) }));
  const events: ConverseStreamOutput[] = [];
  for await (const event of response.stream!) events.push(event);
  return events;
}

async function failure(call: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } }> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the call to fail');
}

describe('bedrock emulator, judged by @aws-sdk/client-bedrock-runtime', () => {
  test('Converse: the echo, end_turn and usage; an ARN model id travels encoded and signed', async () => {
    const answer = await client.send(new ConverseCommand({ modelId: ARN, system: [{ text: 'Be brief.' }], messages: ask, inferenceConfig: { maxTokens: 50, temperature: 0.2 } }));
    assert.equal(answer.output?.message?.content?.[0]?.text, echoText(SUBJECT));
    assert.equal(answer.stopReason, 'end_turn');
    assert.equal(answer.usage!.totalTokens, answer.usage!.inputTokens! + answer.usage!.outputTokens!);
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.problem, null);
    assert.equal(recorded.modelId, ARN);
    assert.match(recorded.path, /^\/model\/arn%3Aaws%3Abedrock%3Aeu-central-1%3A123456789012%3Ainference-profile%2Feu\./);
  });

  test('ConverseStream: binary frames decode into the SDK events, text in pieces, stop, metadata', async () => {
    const events = await streamEvents('echo');
    assert.deepEqual(events[0], { messageStart: { role: 'assistant' } });
    const text = events.map((event) => event.contentBlockDelta?.delta?.text ?? '').join('');
    assert.equal(text, echoText(SUBJECT));
    assert.ok(events.filter((event) => event.contentBlockDelta).length > 1);
    assert.equal(events.at(-2)!.messageStop?.stopReason, 'end_turn');
    assert.ok(events.at(-1)!.metadata!.usage!.outputTokens! > 0);
  });

  test('tools: toolUse with its input, whole and streamed (after a preamble block)', async () => {
    const answer = await client.send(new ConverseCommand({ modelId: 'echo', messages: ask, toolConfig: { tools: [WEATHER] } }));
    assert.equal(answer.stopReason, 'tool_use');
    assert.deepEqual(answer.output?.message?.content?.[0]?.toolUse, { toolUseId: toolUseId(SUBJECT, 'get_weather'), name: 'get_weather', input: echoToolInput(SUBJECT, 'get_weather') });
    const events = await streamEvents('echo-preamble', ask, [WEATHER]);
    const start = events.find((event) => event.contentBlockStart)!.contentBlockStart!;
    assert.equal(start.contentBlockIndex, 1);
    assert.deepEqual(start.start?.toolUse, { toolUseId: toolUseId(SUBJECT, 'get_weather'), name: 'get_weather' });
    const input = events.map((event) => event.contentBlockDelta?.delta?.toolUse?.input ?? '').join('');
    assert.deepEqual(JSON.parse(input), echoToolInput(SUBJECT, 'get_weather'));
    assert.equal(events.find((event) => event.messageStop)?.messageStop?.stopReason, 'tool_use');
  });

  test('a tool round trip is accepted and answered with text', async () => {
    const id = toolUseId(SUBJECT, 'get_weather');
    const messages: Message[] = [
      ...ask,
      { role: 'assistant', content: [{ toolUse: { toolUseId: id, name: 'get_weather', input: { city: 'Köln' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ text: 'sunny' }] } }, { text: 'And tomorrow?' }] },
    ];
    const answer = await client.send(new ConverseCommand({ modelId: 'echo', messages, toolConfig: { tools: [WEATHER] } }));
    assert.equal(answer.stopReason, 'end_turn');
    assert.equal(answer.output?.message?.content?.[0]?.text, echoText('sunny And tomorrow?'));
  });

  test('images: bytes travel base64-encoded and are accepted', async () => {
    const bytes = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    const messages: Message[] = [{ role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes } } }] }];
    const answer = await client.send(new ConverseCommand({ modelId: 'echo', messages }));
    assert.equal(answer.output?.message?.content?.[0]?.text, echoText('What is this? [image]'));
  });

  test('malformed conversations are refused as Bedrock refuses them (ValidationException)', async () => {
    const cases: [string, Message[], Tool[] | undefined][] = [
      ['assistant first', [{ role: 'assistant', content: [{ text: 'hi' }] }], undefined],
      ['two user turns', [...ask, ...ask], undefined],
      ['blank text', [{ role: 'user', content: [{ text: ' ' }] }], undefined],
      ['toolUse without toolConfig', [...ask, { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'x', input: {} } }] }, { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'r' }] } }] }], undefined],
      ['unanswered toolUse', [...ask, { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: {} } }] }, ...ask], [WEATHER]],
    ];
    for (const [name, messages, tools] of cases) {
      const error = await failure(() => client.send(new ConverseCommand({ modelId: 'echo', messages, ...(tools ? { toolConfig: { tools } } : {}) })));
      assert.equal(error.name, 'ValidationException', name);
      assert.equal(error.$metadata?.httpStatusCode, 400, name);
    }
  });

  test('errors become the SDK exception classes, with their statuses', async () => {
    const expected: [string, string, number][] = [
      ['fail-400', 'ValidationException', 400],
      ['fail-401', 'UnrecognizedClientException', 403],
      ['fail-403', 'AccessDeniedException', 403],
      ['fail-408', 'ModelTimeoutException', 408],
      ['fail-424', 'ModelErrorException', 424],
      ['fail-429', 'ThrottlingException', 429],
      ['fail-500', 'InternalServerException', 500],
      ['fail-503', 'ServiceUnavailableException', 503],
    ];
    for (const [modelId, name, status] of expected) {
      const error = await failure(() => client.send(new ConverseCommand({ modelId, messages: ask })));
      assert.equal(error.name, name, modelId);
      assert.equal(error.$metadata?.httpStatusCode, status, modelId);
    }
    const bad = await failure(() => client.send(new ConverseCommand({ modelId: 'fail-400', messages: ask })));
    assert.equal(bad.message, BAD_REQUEST_MESSAGE);
  });

  test('exceptions inside a stream are thrown by the SDK as its exception classes', async () => {
    const throttled = await failure(() => streamEvents('stream-throttle'));
    assert.equal(throttled.name, 'ThrottlingException');
    const failed = await failure(() => streamEvents('stream-model-error'));
    assert.equal(failed.name, 'ModelStreamErrorException');
    const corrupt = await failure(() => streamEvents('stream-corrupt'));
    assert.match(corrupt.message, /checksum/i);
  });

  test('a request signed with the wrong secret, or without the session token, is refused with 403', async () => {
    const wrongSecret = sdkClient({ ...CREDENTIALS, secretAccessKey: 'not-the-secret' });
    const error = await failure(() => wrongSecret.send(new ConverseCommand({ modelId: 'echo', messages: ask })));
    assert.equal(error.name, 'InvalidSignatureException');
    assert.equal(error.$metadata?.httpStatusCode, 403);
    const noToken = sdkClient({ accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey });
    assert.equal((await failure(() => noToken.send(new ConverseCommand({ modelId: 'echo', messages: ask })))).$metadata?.httpStatusCode, 403);
    const otherKey = sdkClient({ ...CREDENTIALS, accessKeyId: 'AKIAOTHER' });
    assert.equal((await failure(() => otherKey.send(new ConverseCommand({ modelId: 'echo', messages: ask })))).name, 'UnrecognizedClientException');
    for (const sdk of [wrongSecret, noToken, otherKey]) sdk.destroy();
  });

  test('InvokeModel: Titan V2 and Cohere V3/V4 embedding bodies', async () => {
    const invoke = async (modelId: string, body: unknown) => {
      const response = await client.send(new InvokeModelCommand({ modelId, contentType: 'application/json', accept: 'application/json', body: JSON.stringify(body) }));
      return JSON.parse(Buffer.from(response.body).toString('utf8')) as Record<string, unknown>;
    };
    const titan = await invoke('amazon.titan-embed-text-v2:0', { inputText: SUBJECT, dimensions: 256, normalize: true });
    assert.deepEqual(titan.embedding, embeddingVector(SUBJECT, 256));
    assert.ok((titan.inputTextTokenCount as number) > 0);
    const v3 = await invoke('cohere.embed-multilingual-v3', { texts: ['a', 'b'], input_type: 'search_document' });
    assert.deepEqual(v3.embeddings, [embeddingVector('a', 1024), embeddingVector('b', 1024)]);
    const v4 = await invoke('cohere.embed-v4:0', { texts: ['a'], input_type: 'search_query', output_dimension: 256 });
    assert.deepEqual(v4.embeddings, { float: [embeddingVector('a', 256)] });
    const refused = await failure(() => invoke('amazon.titan-embed-text-v2:0', { inputText: 'x', dimensions: 300 }));
    assert.equal(refused.name, 'ValidationException');
  });
});
