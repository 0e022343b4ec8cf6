import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest } from '../../core/types.js';
import { fromConverseResponse, toConverseRequest, usageOf } from './chat.js';

const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

function request(fields: Partial<ChatRequest>): ChatRequest {
  return { model: 'alias', messages: [{ role: 'user', content: 'Hallo' }], ...fields };
}

function refused(fields: Partial<ChatRequest>, param: string | null, message: RegExp): void {
  assert.throws(
    () => toConverseRequest(request(fields)),
    (error: unknown) => {
      assert.ok(error instanceof GatewayError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.param, param);
      assert.match(error.message, message);
      return true;
    },
  );
}

test('system and developer messages become system blocks; user text and data-URL images become blocks', () => {
  const converse = toConverseRequest(
    request({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use German.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Was ist das?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } }] },
      ],
    }),
  );
  assert.deepEqual(converse, {
    system: [{ text: 'Be brief.' }, { text: 'Use German.' }],
    messages: [{ role: 'user', content: [{ text: 'Was ist das?' }, { image: { format: 'png', source: { bytes: PIXEL } } }] }],
  });
});

test('image formats: jpeg, gif and webp data URLs; web URLs and other types are refused with the part named', () => {
  for (const [mime, format] of [['image/jpeg', 'jpeg'], ['image/jpg', 'jpeg'], ['image/gif', 'gif'], ['image/webp', 'webp']] as const) {
    const converse = toConverseRequest(request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:${mime};base64,AAAA` } }] }] }));
    assert.deepEqual(converse.messages[0]!.content[0], { image: { format, source: { bytes: 'AAAA' } } });
  }
  const image = (url: string) => ({ messages: [{ role: 'user' as const, content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url } }] }] });
  refused(image('https://example.com/cat.png'), 'messages[0].content[1].image_url.url', /image bytes only, not web URLs/);
  refused(image('data:image/tiff;base64,AAAA'), 'messages[0].content[1].image_url.url', /image\/tiff" is not supported/);
  refused(image('data:image/png,raw'), 'messages[0].content[1].image_url.url', /base64 data URL/);
  refused({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type', /input_audio/);
});

test('assistant tool calls become toolUse; tool results and a following user message merge into one user turn', () => {
  const converse = toConverseRequest(
    request({
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Köln and Bonn?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'Thanks!' },
      ],
    }),
  );
  assert.deepEqual(converse.messages, [
    { role: 'user', content: [{ text: 'Weather in Köln and Bonn?' }] },
    {
      role: 'assistant',
      content: [
        { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Köln' } } },
        { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
      ],
    },
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny' }] } },
        { toolResult: { toolUseId: 'call_2', content: [{ text: 'rain' }] } },
        { text: 'Thanks!' },
      ],
    },
  ]);
});

test('consecutive user messages merge; an assistant message with nothing in it is left out', () => {
  const converse = toConverseRequest(
    request({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: null }, { role: 'user', content: 'b' }] }),
  );
  assert.deepEqual(converse.messages, [{ role: 'user', content: [{ text: 'a' }, { text: 'b' }] }]);
});

test('malformed conversations are refused with the field named', () => {
  refused({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role', /"function" is not supported/);
  refused({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', /tool_call_id/);
  const badArgs = { role: 'assistant' as const, content: null, tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{oops' } }] };
  refused({ messages: [{ role: 'user', content: 'x' }, badArgs] }, 'messages[1].tool_calls[0].function.arguments', /must be JSON/);
  const arrayArgs = { ...badArgs, tool_calls: [{ ...badArgs.tool_calls[0]!, function: { name: 'f', arguments: '[1]' } }] };
  refused({ messages: [{ role: 'user', content: 'x' }, arrayArgs] }, 'messages[1].tool_calls[0].function.arguments', /JSON object/);
  refused({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] }, 'messages[0].content[0]', /only text/);
});

test('sampling: max_completion_tokens wins over max_tokens; temperature, top_p and stop', () => {
  const converse = toConverseRequest(request({ max_tokens: 10, max_completion_tokens: 20, temperature: 0.3, top_p: 0.9, stop: 'END' }));
  assert.deepEqual(converse.inferenceConfig, { maxTokens: 20, temperature: 0.3, topP: 0.9, stopSequences: ['END'] });
  assert.deepEqual(toConverseRequest(request({ max_tokens: 5, stop: ['a', 'b'] })).inferenceConfig, { maxTokens: 5, stopSequences: ['a', 'b'] });
  assert.equal(toConverseRequest(request({ stop: [] })).inferenceConfig, undefined);
});

test('tools and tool_choice: auto, required (any), a named function, none (no tools sent)', () => {
  const spec = { toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: WEATHER.function.parameters } } };
  assert.deepEqual(toConverseRequest(request({ tools: [WEATHER] })).toolConfig, { tools: [spec] });
  assert.deepEqual(toConverseRequest(request({ tools: [WEATHER], tool_choice: 'auto' })).toolConfig?.toolChoice, { auto: {} });
  assert.deepEqual(toConverseRequest(request({ tools: [WEATHER], tool_choice: 'required' })).toolConfig?.toolChoice, { any: {} });
  const named = toConverseRequest(request({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } }));
  assert.deepEqual(named.toolConfig?.toolChoice, { tool: { name: 'get_weather' } });
  assert.equal(toConverseRequest(request({ tools: [WEATHER], tool_choice: 'none' })).toolConfig, undefined);
  const bare = toConverseRequest(request({ tools: [{ type: 'function', function: { name: 'ping', strict: true } }] }));
  assert.deepEqual(bare.toolConfig?.tools, [{ toolSpec: { name: 'ping', inputSchema: { json: { type: 'object', properties: {} } }, strict: true } }]);
  refused({ tools: [{ type: 'web_search' }] }, 'tools[0].type', /only "function"/);
  refused({ tools: [WEATHER], tool_choice: { type: 'function' } }, 'tool_choice', /name a function/);
});

test('response_format: json_schema becomes structured output; json_object is refused; text is nothing', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  const converse = toConverseRequest(request({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } }));
  assert.deepEqual(converse.outputConfig, { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'answer' } } } });
  assert.equal(toConverseRequest(request({ response_format: { type: 'text' } })).outputConfig, undefined);
  refused({ response_format: { type: 'json_object' } }, 'response_format', /"json_object" is not supported/);
  refused({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema', /schema object/);
});

test('values Converse cannot deliver are refused: n > 1, logprobs, audio output, unknown service tiers', () => {
  refused({ n: 2 }, 'n', /one choice/);
  refused({ logprobs: true }, 'logprobs', /token probabilities/);
  refused({ modalities: ['text', 'audio'] }, 'modalities', /text only/);
  refused({ service_tier: 'scale' }, 'service_tier', /not offered/);
  refused({ top_logprobs: 3 }, 'top_logprobs', /token probabilities/);
  refused({ logit_bias: { '50256': -100 } }, 'logit_bias', /cannot bias/);
  assert.doesNotThrow(() => toConverseRequest(request({ n: 1, logprobs: false, modalities: ['text'], top_logprobs: 0, logit_bias: {} })));
});

test('metadata, service tier and the deployment extras', () => {
  const converse = toConverseRequest(request({ metadata: { team: 'signals' }, service_tier: 'flex' }), {
    additionalModelRequestFields: { top_k: 40 },
    guardrail: { identifier: 'gr-1', version: '2', trace: 'enabled' },
  });
  assert.deepEqual(converse.requestMetadata, { team: 'signals' });
  assert.deepEqual(converse.serviceTier, { type: 'flex' });
  assert.deepEqual(converse.additionalModelRequestFields, { top_k: 40 });
  assert.deepEqual(converse.guardrailConfig, { guardrailIdentifier: 'gr-1', guardrailVersion: '2', trace: 'enabled' });
  assert.equal(toConverseRequest(request({ service_tier: 'auto', metadata: {} })).serviceTier, undefined);
});

test('a Converse answer becomes a chat.completion: text joined, toolUse as tool_calls, finish and usage', () => {
  const answer = fromConverseResponse(
    {
      output: {
        message: {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'thinking' } } },
            { text: 'Moment, ' },
            { text: 'ich schaue nach.' },
            { toolUse: { toolUseId: 'tu_1', name: 'get_weather', input: { city: 'Köln' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    },
    { id: 'chatcmpl-1', model: 'm', created: 7 },
  );
  assert.deepEqual(answer, {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 7,
    model: 'm',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Moment, ich schaue nach.',
          tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } }],
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  });
  const toolsOnly = fromConverseResponse({ output: { message: { content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] } }, stopReason: 'tool_use' }, { id: 'x', model: 'm', created: 1 });
  assert.equal(toolsOnly.choices[0]!.message.content, null);
});

test('usage: cache reads and writes count as prompt tokens; reads are cached_tokens', () => {
  assert.deepEqual(usageOf({ inputTokens: 3, outputTokens: 4, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 }), {
    prompt_tokens: 123,
    completion_tokens: 4,
    total_tokens: 127,
    prompt_tokens_details: { cached_tokens: 100 },
  });
  assert.deepEqual(usageOf(undefined), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

test('an answer without output.message.content is a bad response', () => {
  assert.throws(
    () => fromConverseResponse({ stopReason: 'end_turn' }, { id: 'x', model: 'm', created: 1 }),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response',
  );
});
