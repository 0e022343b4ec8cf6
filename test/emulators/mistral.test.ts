import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { RateLimitError, UnprocessableEntityError } from 'openai';
import { chatAnswer, embeddingVector, toolArguments } from './openai-answers.js';
import { mistralCallId, startMistralEmulator, THINKING, type MistralEmulator } from './mistral.js';

/**
 * The Mistral emulator against Mistral's documented API: Mistral publishes no JavaScript SDK here,
 * so requests go as plain HTTP shaped from the API reference, and the shapes of answers are
 * checked field by field. Mistral's API is close enough to OpenAI's that the openai SDK reads its
 * answers; that is checked too (it is how many clients use Mistral).
 */

const KEY = 'mistral-emulator-key-0123456789';
let emulator: MistralEmulator;

before(async () => {
  emulator = await startMistralEmulator({ apiKey: KEY });
});
after(() => emulator.close());

const SUBJECT = 'Wo hält der Zug? 🚂';

async function post(path: string, body: unknown, key = KEY): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a stream
  }
  return { status: response.status, json, text };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'echo', messages: [{ role: 'user', content: SUBJECT }], ...extra });
const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('mistral emulator, against the API reference', () => {
  test('a chat completion has the documented shape', async () => {
    const { status, json } = await post('/chat/completions', chat({ max_tokens: 50, random_seed: 7, safe_prompt: false }));
    assert.equal(status, 200);
    assert.equal(json.object, 'chat.completion');
    const choice = (json.choices as Record<string, unknown>[])[0]!;
    assert.deepEqual(choice.message, { role: 'assistant', content: chatAnswer(SUBJECT), tool_calls: null, prefix: false });
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(Object.keys(json.usage as object).sort(), ['completion_tokens', 'prompt_tokens', 'total_tokens']);
  });

  test('a stream: role chunk, content pieces, finish with usage on the last chunk, [DONE]', async () => {
    const { text } = await post('/chat/completions', chat({ stream: true }));
    const events = text.split('\n\n').filter((frame) => frame.startsWith('data: ')).map((frame) => frame.slice(6));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as { choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[]; usage?: unknown });
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.equal(chunks.map((chunk) => chunk.choices[0]!.delta.content ?? '').join(''), chatAnswer(SUBJECT));
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
    assert.ok(chunks.at(-1)!.usage);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === undefined));
  });

  test('tool calls: 9-character ids, each call whole in one stream delta; "any" forces a call', async () => {
    const { json } = await post('/chat/completions', chat({ tools: [WEATHER], tool_choice: 'any' }));
    const call = ((json.choices as { message: { tool_calls: { id: string; function: { arguments: string } }[] } }[])[0]!.message.tool_calls)[0]!;
    assert.match(call.id, /^[A-Za-z0-9]{9}$/);
    assert.equal(call.id, mistralCallId(SUBJECT, 'get_weather', 0));
    assert.equal(call.function.arguments, toolArguments(SUBJECT, 'get_weather'));
    const { text } = await post('/chat/completions', chat({ tools: [WEATHER], stream: true }));
    assert.match(text, /"tool_calls":\[\{"id":"[A-Za-z0-9]{9}","function":\{"name":"get_weather","arguments":"\{/);
  });

  test('unknown fields anywhere are a 422 extra_forbidden in Mistral\'s validation shape', async () => {
    for (const [body, loc] of [
      [chat({ seed: 1 }), ['body', 'seed']],
      [chat({ stream_options: { include_usage: true } }), ['body', 'stream_options']],
      [chat({ max_completion_tokens: 5 }), ['body', 'max_completion_tokens']],
      [{ model: 'echo', messages: [{ role: 'user', content: 'x', name: 'me' }] }, ['body', 'messages', 0, 'user', 'name']],
      [{ model: 'echo', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x', foo: 1 } }] }] }, ['body', 'messages', 0, 'user', 'content', 0, 'image_url', 'image_url']],
    ] as const) {
      const { status, json } = await post('/chat/completions', body);
      assert.equal(status, 422, JSON.stringify(body));
      assert.equal(json.object, 'error');
      const detail = (json.message as { detail: { loc: unknown[] }[] }).detail;
      assert.deepEqual(detail[0]!.loc, loc);
    }
    const developer = await post('/chat/completions', { model: 'echo', messages: [{ role: 'developer', content: 'x' }, { role: 'user', content: 'y' }] });
    assert.equal(developer.status, 422);
    const required = await post('/chat/completions', chat({ tool_choice: 'required', tools: [WEATHER] }));
    assert.equal(required.status, 200, '"required" is accepted beside "any"');
  });

  test('tool-call ids must be 9 letters and digits, and answer a call made before', async () => {
    const foreign = await post('/chat/completions', {
      model: 'echo',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_abc123', content: '{}' },
      ],
    });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.json.message, 'Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9.');
    assert.equal(foreign.json.code, '3280');
    const unpaired = await post('/chat/completions', { model: 'echo', messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'abcdefghi', content: '{}' }] });
    assert.equal(unpaired.status, 400);
    const lastAssistant = await post('/chat/completions', { model: 'echo', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] });
    assert.equal(lastAssistant.status, 400);
    assert.match(String(lastAssistant.json.message), /Expected last role User or Tool/);
  });

  test('auth, paths and faults', async () => {
    const anonymous = await post('/chat/completions', chat(), 'wrong');
    assert.deepEqual([anonymous.status, anonymous.json.message], [401, 'Unauthorized']);
    assert.equal((await post('/completions', chat())).status, 404);
    const limited = await fetch(`${emulator.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(chat({ model: 'fail-429' })) });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal((await post('/chat/completions', chat({ model: 'model-length' }))).json.choices instanceof Array, true);
    const thinking = await post('/chat/completions', chat({ model: 'thinking' }));
    assert.deepEqual((thinking.json.choices as { message: { content: unknown } }[])[0]!.message.content, [
      { type: 'thinking', thinking: [{ type: 'text', text: THINKING }] },
      { type: 'text', text: chatAnswer(SUBJECT) },
    ]);
  });

  test('embeddings: floats by default, output_dimension; token arrays refused', async () => {
    const { status, json } = await post('/embeddings', { model: 'mistral-embed', input: ['a', 'b'] });
    assert.equal(status, 200);
    assert.deepEqual((json.data as { embedding: number[] }[]).map((item) => item.embedding), [embeddingVector('a', 8), embeddingVector('b', 8)]);
    const short = await post('/embeddings', { model: 'codestral-embed', input: 'a', output_dimension: 4 });
    assert.deepEqual((short.json.data as { embedding: number[] }[])[0]!.embedding, embeddingVector('a', 4));
    assert.equal((await post('/embeddings', { model: 'mistral-embed', input: [[1, 2]] })).status, 422);
    assert.equal((await post('/embeddings', { model: 'mistral-embed', input: 'a', dimensions: 4 })).status, 422);
  });

  test('the openai SDK reads its answers and errors', async () => {
    const client = new OpenAI({ baseURL: emulator.url, apiKey: KEY, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: SUBJECT }] });
    assert.equal(answer.choices[0]!.message.content, chatAnswer(SUBJECT));
    const final = await client.chat.completions.stream({ model: 'echo', messages: [{ role: 'user', content: SUBJECT }] }).finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, chatAnswer(SUBJECT));
    await assert.rejects(client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: SUBJECT }], seed: 1 }), UnprocessableEntityError);
    await assert.rejects(client.chat.completions.create({ model: 'fail-429', messages: [{ role: 'user', content: SUBJECT }] }), RateLimitError);
  });
});
