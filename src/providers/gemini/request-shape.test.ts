import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FunctionCallingConfigMode, GoogleGenAI, Type } from '@google/genai';
import { startCaptureServer, type CaptureServer } from '../../../test/emulators/gemini-capture.js';
import { timeoutsSchema } from '../../config/deployment-base.js';
import type { ChatRequest } from '../../core/types.js';
import type { ProviderAdapter, UpstreamCall } from '../types.js';
import { geminiDeploymentSchema } from './config.js';
import { geminiProvider } from './index.js';

/**
 * What a correct Gemini API request looks like is what the official @google/genai SDK sends: both
 * it and Stellwerk's adapter send the same conversation to a capturing server, and path, query,
 * auth header and body must agree.
 */

const KEY = 'AIzaSyRequestShapeKey0123456789abcdefghi';
const MODEL = 'gemini-2.5-flash';
let capture: CaptureServer;
let sdk: GoogleGenAI;
let adapter: ProviderAdapter;
const call: UpstreamCall = { signal: new AbortController().signal, requestId: 'req-shape', forwardHeaders: {} };

before(async () => {
  capture = await startCaptureServer();
  sdk = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: capture.url } });
  const config = geminiDeploymentSchema.parse({ provider: 'gemini', model: MODEL, api_key: KEY, base_url: `${capture.url}/v1beta` });
  adapter = geminiProvider.create(config, { deploymentName: 'shape', timeouts: timeoutsSchema.parse({}) });
});
after(async () => {
  await adapter.close();
  await capture.close();
});

/** A conversation with every kind of part and most sampling fields, in OpenAI's words… */
const OPENAI_REQUEST: ChatRequest = {
  model: 'alias',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Wetter in Köln?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' }, extra_content: { google: { thought_signature: 'c2lnbmF0dXJl' } } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"clear"}' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string', description: 'City' }, days: { type: ['integer', 'null'] } },
          required: ['city'],
          additionalProperties: false,
        },
      },
    },
  ],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  max_tokens: 100,
  temperature: 0.3,
  top_p: 0.9,
  stop: ['END'],
  seed: 7,
  presence_penalty: 0.1,
  frequency_penalty: 0.2,
  n: 2,
  logprobs: true,
  top_logprobs: 3,
  response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } } },
};

/** …and in Google's, as the SDK's user would write it. */
const SDK_PARAMS = {
  model: MODEL,
  contents: [
    { role: 'user', parts: [{ text: 'Wetter in Köln?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Köln' } }, thoughtSignature: 'c2lnbmF0dXJl' }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }] },
  ],
  config: {
    systemInstruction: { parts: [{ text: 'Be brief.' }] },
    maxOutputTokens: 100,
    temperature: 0.3,
    topP: 0.9,
    stopSequences: ['END'],
    seed: 7,
    presencePenalty: 0.1,
    frequencyPenalty: 0.2,
    candidateCount: 2,
    responseLogprobs: true,
    logprobs: 3,
    responseMimeType: 'application/json',
    responseSchema: { type: Type.OBJECT, properties: { answer: { type: Type.STRING } }, required: ['answer'] },
    tools: [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING, description: 'City' }, days: { type: Type.INTEGER, nullable: true } }, required: ['city'] },
          },
        ],
      },
    ],
    toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ['get_weather'] } },
  },
};

function lastTwo() {
  const [sdkRequest, ours] = capture.captured.slice(-2);
  assert.ok(sdkRequest !== undefined && ours !== undefined);
  return { sdkRequest, ours };
}

describe('gemini: the adapter sends what @google/genai sends', () => {
  test('generateContent: path, key header, body', async () => {
    await sdk.models.generateContent(SDK_PARAMS);
    await adapter.chat(OPENAI_REQUEST, call);
    const { sdkRequest, ours } = lastTwo();
    assert.equal(ours.method, 'POST');
    assert.equal(ours.path, sdkRequest.path);
    assert.equal(ours.path, `/v1beta/models/${MODEL}:generateContent`);
    assert.deepEqual(ours.query, sdkRequest.query);
    assert.equal(ours.headers['x-goog-api-key'], sdkRequest.headers['x-goog-api-key']);
    assert.equal(ours.headers['content-type'], sdkRequest.headers['content-type']);
    assert.equal(ours.headers.authorization, undefined);
    assert.deepEqual(ours.body, sdkRequest.body);
  });

  test('streamGenerateContent: alt=sse and the same body', async () => {
    for await (const _ of await sdk.models.generateContentStream(SDK_PARAMS)) {
      // drained
    }
    for await (const _ of await adapter.chatStream({ ...OPENAI_REQUEST, stream: true, stream_options: { include_usage: true } }, call)) {
      // drained
    }
    const { sdkRequest, ours } = lastTwo();
    assert.equal(ours.path, sdkRequest.path);
    assert.equal(ours.path, `/v1beta/models/${MODEL}:streamGenerateContent`);
    assert.deepEqual(ours.query, sdkRequest.query);
    assert.deepEqual(ours.query, { alt: 'sse' });
    assert.deepEqual(ours.body, sdkRequest.body);
  });

  test('embeddings: several inputs as batchEmbedContents, one as embedContent', async () => {
    await sdk.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'b'], config: { outputDimensionality: 4 } });
    const embedder = geminiProvider.create(
      geminiDeploymentSchema.parse({ provider: 'gemini', model: 'gemini-embedding-001', api_key: KEY, base_url: `${capture.url}/v1beta` }),
      { deploymentName: 'shape-embed', timeouts: timeoutsSchema.parse({}) },
    );
    try {
      await embedder.embeddings!({ model: 'alias', input: ['a', 'b'], dimensions: 4 }, call);
      const { sdkRequest, ours } = lastTwo();
      assert.equal(ours.path, sdkRequest.path);
      assert.equal(ours.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
      assert.deepEqual(ours.body, sdkRequest.body);
      await embedder.embeddings!({ model: 'alias', input: 'a' }, call);
      const single = capture.captured.at(-1)!;
      assert.equal(single.path, '/v1beta/models/gemini-embedding-001:embedContent');
      assert.deepEqual(single.body, { content: { role: 'user', parts: [{ text: 'a' }] } });
    } finally {
      await embedder.close();
    }
  });
});
