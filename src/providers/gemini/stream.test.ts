import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planGenerate } from '../../../test/emulators/gemini-answers.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk } from '../../core/types.js';
import { sseJsonEvents } from '../http/testing.js';
import type { AnswerContext } from './chat.js';
import { geminiChatStream, GeminiStreamTranslator, isFinalGeminiEvent } from './stream.js';
import type { GenerateContentResponse } from './wire.js';

function context(): AnswerContext {
  let next = 0;
  return { model: 'gemini-2.5-flash', requestId: 'req-7', newToolCallId: () => `call_${++next}` };
}

/** The chunks without `created` (a clock reading), to compare runs. */
function stable(chunks: readonly ChatChunk[]): unknown[] {
  return chunks.map(({ created: _created, ...rest }) => rest);
}

async function translateBody(pieces: readonly Uint8Array[]): Promise<ChatChunk[]> {
  async function* body() {
    for (const piece of pieces) yield piece;
  }
  const events = sseJsonEvents<GenerateContentResponse>(body(), {
    failure: (error) => (error instanceof GatewayError ? error : new GatewayError('upstream_error', { cause: error })),
    isFinal: isFinalGeminiEvent,
    secrets: [],
  });
  const out: ChatChunk[] = [];
  for await (const chunk of geminiChatStream(events, context())) out.push(chunk.value);
  return out;
}

const SUBJECT = 'Grüße aus dem Stellwerk 🚂 nach Köln';
const contents = [{ role: 'user', parts: [{ text: SUBJECT }] }];

describe('Google stream → OpenAI chunks', () => {
  test('role first, text deltas, finish, then the usage chunk with thoughts counted as output', () => {
    const translator = new GeminiStreamTranslator(context());
    const chunks = [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'thinking…', thought: true }] }, index: 0 }], responseId: 'r1', modelVersion: 'gemini-2.5-pro' },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Guten ' }] }, index: 0 }], usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Tag' }] }, index: 0, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 3, totalTokenCount: 9 } },
    ].flatMap((event) => translator.translate(event));
    chunks.push(translator.usageChunk());
    assert.ok(chunks.every((chunk) => chunk.id === 'chatcmpl-r1' && chunk.model === 'gemini-2.5-pro' && chunk.object === 'chat.completion.chunk'));
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices),
      [
        [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        [{ index: 0, delta: { content: 'Guten ' }, finish_reason: null }],
        [{ index: 0, delta: { content: 'Tag' }, finish_reason: null }],
        [{ index: 0, delta: {}, finish_reason: 'stop' }],
        [],
      ],
    );
    assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9, completion_tokens_details: { reasoning_tokens: 3 } });
  });

  test('a function call: id, name and empty arguments, then the arguments; the signature rides along; finish tool_calls', () => {
    const translator = new GeminiStreamTranslator(context());
    const chunks = translator.translate({
      candidates: [
        {
          content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Köln' } }, thoughtSignature: 'c2ln' }, { functionCall: { name: 'get_time', args: {} } }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
    });
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]),
      [
        { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
        { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' }, extra_content: { google: { thought_signature: 'c2ln' } } }] }, finish_reason: null },
        { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Köln"}' } }] }, finish_reason: null },
        { index: 0, delta: { tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } }] }, finish_reason: null },
        { index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: '{}' } }] }, finish_reason: null },
        { index: 0, delta: {}, finish_reason: 'tool_calls' },
      ],
    );
    assert.equal(chunks[0]!.id, 'chatcmpl-req-7');
  });

  test('several candidates each get their role chunk and finish; logprobs ride on the content delta', () => {
    const translator = new GeminiStreamTranslator(context());
    const chunks = translator.translate({
      candidates: [
        { content: { parts: [{ text: 'a' }] }, index: 0, logprobsResult: { chosenCandidates: [{ token: 'a', logProbability: -1 }] } },
        { content: { parts: [{ text: 'b' }] }, index: 1, finishReason: 'SAFETY' },
      ],
    });
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]),
      [
        { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
        { index: 0, delta: { content: 'a' }, finish_reason: null, logprobs: { content: [{ token: 'a', logprob: -1, bytes: [97], top_logprobs: [] }] } },
        { index: 1, delta: { role: 'assistant', content: '' }, finish_reason: null },
        { index: 1, delta: { content: 'b' }, finish_reason: null },
        { index: 1, delta: {}, finish_reason: 'content_filter' },
      ],
    );
  });

  test('a blocked prompt streams as an empty content_filter answer', () => {
    const translator = new GeminiStreamTranslator(context());
    const event = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } };
    assert.equal(isFinalGeminiEvent(event), true);
    assert.deepEqual(
      translator.translate(event).map((chunk) => chunk.choices[0]),
      [
        { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
        { index: 0, delta: {}, finish_reason: 'content_filter' },
      ],
    );
    assert.deepEqual(translator.usageChunk().usage, { prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 });
  });

  test('split at every byte boundary, and byte by byte, the stream translates the same', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }] }];
    const bodies = [
      planGenerate({ contents, generationConfig: { candidateCount: 2 } }, 'echo').chunks,
      planGenerate({ contents, tools }, 'thinking').chunks,
    ];
    for (const events of bodies) {
      const bytes = Buffer.from(events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join(''), 'utf8');
      const whole = stable(await translateBody([bytes]));
      assert.ok(whole.length > 4);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.deepEqual(stable(await translateBody([bytes.subarray(0, cut), bytes.subarray(cut)])), whole, `split at byte ${cut}`);
      }
      const single = Array.from({ length: bytes.length }, (_, k) => bytes.subarray(k, k + 1));
      assert.deepEqual(stable(await translateBody(single)), whole);
    }
  });

  test('a stream that ends before any finish is an error; an error event mid-stream is a 502 with Google\'s message', async () => {
    const unfinished = Buffer.from(`data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] }, index: 0 }] })}\r\n\r\n`);
    await assert.rejects(translateBody([unfinished]), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error' && /before the answer was complete/.test(error.message));
    const failing = Buffer.concat([unfinished, Buffer.from(`data: ${JSON.stringify({ error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } })}\r\n\r\n`)]);
    await assert.rejects(translateBody([failing]), (error: unknown) => error instanceof GatewayError && error.status === 502 && error.message === 'Internal error encountered.');
  });
});
