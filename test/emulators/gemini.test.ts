import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type, type Content } from '@google/genai';
import { signAssertion, type ServiceAccount } from '../../src/providers/vertex/auth.js';
import { fixedTokenAuth } from './gemini-capture.js';
import { chatAnswer, CACHED_TOKENS, THOUGHT, thoughtSignatureFor, toolArguments } from './gemini-answers.js';
import { BAD_REQUEST_MESSAGE, embeddingVector, startGeminiEmulator, type GeminiEmulator } from './gemini.js';

/** The official @google/genai SDK judges the emulator: what it sends must be accepted and what it gets must parse as Google's would. */

const KEY = 'AIzaSyEmulatorKey0123456789abcdefghijkl';
const SUBJECT = 'Grüße aus dem Stellwerk 🚂';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ACCOUNT: ServiceAccount = { clientEmail: 'gateway@emu-project.iam.gserviceaccount.com', privateKey, privateKeyId: 'k1', tokenUri: '', projectId: 'emu-project' };

let emulator: GeminiEmulator;
let gemini: GoogleGenAI;

before(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY, serviceAccount: { clientEmail: ACCOUNT.clientEmail, publicKey } });
  gemini = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url } });
});
after(() => emulator.close());

const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
};

async function apiError(call: () => Promise<unknown>): Promise<ApiError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected an ApiError');
}

describe('gemini emulator (Gemini API), judged by @google/genai', () => {
  test('generateContent: the echo, usage, and the request as the SDK sent it', async () => {
    const answer = await gemini.models.generateContent({ model: 'echo', contents: SUBJECT, config: { systemInstruction: 'Be brief.', maxOutputTokens: 50 } });
    assert.equal(answer.text, chatAnswer(SUBJECT));
    assert.equal(answer.candidates![0]!.finishReason, 'STOP');
    const usage = answer.usageMetadata!;
    assert.equal(usage.totalTokenCount, usage.promptTokenCount! + usage.candidatesTokenCount!);
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.path, '/v1beta/models/echo:generateContent');
    assert.equal(recorded.headers['x-goog-api-key'], KEY);
    assert.equal(recorded.problem, null);
  });

  test('generateContentStream: the same text in pieces, finish and usage last', async () => {
    const stream = await gemini.models.generateContentStream({ model: 'echo', contents: SUBJECT });
    const texts: string[] = [];
    let last;
    for await (const chunk of stream) {
      texts.push(chunk.text ?? '');
      last = chunk;
    }
    assert.ok(texts.length > 1);
    assert.equal(texts.join(''), chatAnswer(SUBJECT));
    assert.equal(last!.candidates![0]!.finishReason, 'STOP');
    assert.ok(last!.usageMetadata!.candidatesTokenCount! > 0);
    assert.equal(emulator.requests.at(-1)!.query.alt, 'sse');
  });

  test('function calling: a call with arguments, then the result is accepted', async () => {
    const tools = [{ functionDeclarations: [WEATHER] }];
    const first = await gemini.models.generateContent({ model: 'echo', contents: SUBJECT, config: { tools } });
    assert.deepEqual(first.functionCalls, [{ name: 'get_weather', args: toolArguments(SUBJECT, 'get_weather') }]);
    const history: Content[] = [
      { role: 'user', parts: [{ text: SUBJECT }] },
      first.candidates![0]!.content!,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }] },
    ];
    const second = await gemini.models.generateContent({ model: 'echo', contents: history, config: { tools } });
    assert.equal(second.text, chatAnswer('{"sky":"clear"}'));
    const forced = await gemini.models.generateContent({
      model: 'echo',
      contents: history,
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ['get_weather'] } } },
    });
    assert.equal(forced.functionCalls?.[0]?.name, 'get_weather');
  });

  test('a thinking model: thought parts, signatures, and signatures required back', async () => {
    const tools = [{ functionDeclarations: [WEATHER] }];
    const first = await gemini.models.generateContent({ model: 'thinking', contents: SUBJECT, config: { tools } });
    const content = first.candidates![0]!.content!;
    assert.deepEqual(content.parts![0], { text: THOUGHT, thought: true });
    assert.equal(content.parts![1]!.thoughtSignature, thoughtSignatureFor('get_weather'));
    assert.equal(first.usageMetadata!.cachedContentTokenCount, CACHED_TOKENS);
    const result = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }] };
    const ok = await gemini.models.generateContent({ model: 'thinking', contents: [{ role: 'user', parts: [{ text: SUBJECT }] }, content, result], config: { tools } });
    assert.equal(ok.text, chatAnswer('{"sky":"clear"}'));
    const unsigned = { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} } }] };
    const refused = await apiError(() => gemini.models.generateContent({ model: 'thinking', contents: [{ role: 'user', parts: [{ text: SUBJECT }] }, unsigned, result], config: { tools } }));
    assert.equal(refused.status, 400);
    assert.match(refused.message, /missing a thought_signature/);
  });

  test('errors in Google\'s shape: 400, 429 with retry-after, a wrong key', async () => {
    const bad = await apiError(() => gemini.models.generateContent({ model: 'fail-400', contents: SUBJECT }));
    assert.equal(bad.status, 400);
    assert.match(bad.message, new RegExp(BAD_REQUEST_MESSAGE.replace('.', '\\.')));
    const limited = await apiError(() => gemini.models.generateContent({ model: 'fail-429', contents: SUBJECT }));
    assert.equal(limited.status, 429);
    assert.match(limited.message, /RESOURCE_EXHAUSTED/);
    const stranger = new GoogleGenAI({ apiKey: 'AIzaSyWrongKey', httpOptions: { baseUrl: emulator.url } });
    const wrong = await apiError(() => stranger.models.generateContent({ model: 'echo', contents: SUBJECT }));
    assert.equal(wrong.status, 400);
    assert.match(wrong.message, /API_KEY_INVALID/);
  });

  test('strict: JSON-Schema keywords Google lacks, lower-case types and unknown fields are refused', async () => {
    const send = (body: unknown) =>
      fetch(`${emulator.geminiBaseUrl}/models/echo:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY }, body: JSON.stringify(body) });
    const contents = [{ role: 'user', parts: [{ text: 'x' }] }];
    const cases: [unknown, RegExp][] = [
      [{ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } }, additionalProperties: false } }] }] }, /Unknown name "additionalProperties"/],
      [{ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'STRING' } } } }] }] }, /Invalid value at .*type/],
      [{ contents, temperature: 1 }, /Unknown name "temperature"/],
      [{ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, /valid role/],
      [{ contents: [...contents, { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] }] }, /immediately after a function call turn/],
      [{ contents, generationConfig: { responseSchema: { type: 'STRING' } } }, /response_mime_type must be/],
    ];
    for (const [body, message] of cases) {
      const response = await send(body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = ((await response.json()) as { error: { status: string; message: string } }).error;
      assert.equal(error.status, 'INVALID_ARGUMENT');
      assert.match(error.message, message);
    }
  });

  test('embedContent: the SDK\'s batch request, one vector per content', async () => {
    const answer = await gemini.models.embedContent({ model: 'embedder', contents: ['a', 'b'], config: { outputDimensionality: 4 } });
    assert.deepEqual(
      answer.embeddings!.map((embedding) => embedding.values),
      [embeddingVector('a', 4), embeddingVector('b', 4)],
    );
    assert.equal(emulator.requests.at(-1)!.path, '/v1beta/models/embedder:batchEmbedContents');
  });
});

describe('gemini emulator (Vertex AI), judged by @google/genai', () => {
  let vertex: GoogleGenAI;

  before(async () => {
    // The emulator issues tokens for the service account; the SDK then presents one as google-auth would.
    const account = { ...ACCOUNT, tokenUri: emulator.tokenUri };
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: signAssertion(account, Math.floor(Date.now() / 1000)) });
    const response = await fetch(emulator.tokenUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(response.status, 200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    const auth = fixedTokenAuth(token);
    vertex = new GoogleGenAI({
      vertexai: true,
      project: 'emu-project',
      location: 'europe-west4',
      apiVersion: 'v1',
      googleAuthOptions: auth,
      httpOptions: { baseUrl: emulator.url },
    });
  });

  test('generateContent and stream on the regional model path with a bearer token', async () => {
    const answer = await vertex.models.generateContent({ model: 'echo', contents: SUBJECT });
    assert.equal(answer.text, chatAnswer(SUBJECT));
    const recorded = emulator.requests.at(-1)!;
    assert.equal(recorded.path, '/v1/projects/emu-project/locations/europe-west4/publishers/google/models/echo:generateContent');
    assert.match(String(recorded.headers.authorization), /^Bearer ya29\.emu-/);
    let text = '';
    for await (const chunk of await vertex.models.generateContentStream({ model: 'echo', contents: SUBJECT })) text += chunk.text ?? '';
    assert.equal(text, chatAnswer(SUBJECT));
  });

  test('embedContent goes to :predict for embedding models', async () => {
    const answer = await vertex.models.embedContent({ model: 'text-embedding-005', contents: ['a', 'b'] });
    assert.deepEqual(answer.embeddings!.map((embedding) => embedding.values), [embeddingVector('a', 8), embeddingVector('b', 8)]);
    assert.equal(emulator.requests.at(-1)!.path, '/v1/projects/emu-project/locations/europe-west4/publishers/google/models/text-embedding-005:predict');
  });

  test('the token endpoint refuses a JWT signed by another key, and a token it did not issue is 401', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = signAssertion({ ...ACCOUNT, privateKey: other, tokenUri: emulator.tokenUri }, Math.floor(Date.now() / 1000));
    const response = await fetch(emulator.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: forged }),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const auth = fixedTokenAuth('ya29.made-up');
    const stranger = new GoogleGenAI({ vertexai: true, project: 'p', location: 'us-central1', apiVersion: 'v1', googleAuthOptions: auth, httpOptions: { baseUrl: emulator.url } });
    const refused = await apiError(() => stranger.models.generateContent({ model: 'echo', contents: SUBJECT }));
    assert.equal(refused.status, 401);
    assert.match(refused.message, /UNAUTHENTICATED/);
  });
});
