import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest } from '../../core/types.js';
import { fromGenerateContentResponse, toFinishReason, toGenerateContentRequest, toUsage, type AnswerContext } from './chat.js';
import { GOOGLE_CHAT_FIELDS } from './fields.js';
import type { GenerateContentResponse } from './wire.js';

const USER = [{ role: 'user' as const, content: 'Hallo' }];
const request = (fields: Partial<ChatRequest>): ChatRequest => ({ model: 'alias', messages: USER, ...fields });
const config = (fields: Partial<ChatRequest>, model = 'gemini-2.5-flash') => toGenerateContentRequest(request(fields), model).generationConfig;

function refused(fields: Partial<ChatRequest>, param: string): void {
  assert.throws(
    () => toGenerateContentRequest(request(fields), 'gemini-2.5-flash'),
    (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param,
  );
}

const WEATHER = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const TIME = { type: 'function', function: { name: 'get_time', description: 'Now' } };

describe('chat request → GenerateContentRequest', () => {
  test('sampling fields map to generationConfig', () => {
    assert.deepEqual(
      config({ max_tokens: 10, max_completion_tokens: 20, temperature: 0, top_p: 0.5, stop: 'END', n: 3, seed: 42, presence_penalty: 0.5, frequency_penalty: -0.5 }),
      { maxOutputTokens: 20, temperature: 0, topP: 0.5, stopSequences: ['END'], candidateCount: 3, seed: 42, presencePenalty: 0.5, frequencyPenalty: -0.5 },
    );
    assert.deepEqual(config({ max_tokens: 10, stop: ['a', 'b'] }), { maxOutputTokens: 10, stopSequences: ['a', 'b'] });
    assert.equal(toGenerateContentRequest(request({ temperature: null, user: 'u', metadata: { a: 'b' } }), 'm').generationConfig, undefined);
  });

  test('logprobs: responseLogprobs, and top_logprobs as logprobs only with it', () => {
    assert.deepEqual(config({ logprobs: true, top_logprobs: 4 }), { responseLogprobs: true, logprobs: 4 });
    assert.deepEqual(config({ logprobs: true }), { responseLogprobs: true });
    assert.equal(config({ logprobs: false, top_logprobs: 4 }), undefined);
  });

  test('response_format: JSON mode, a converted schema, text as nothing, others refused', () => {
    assert.deepEqual(config({ response_format: { type: 'json_object' } }), { responseMimeType: 'application/json' });
    assert.deepEqual(config({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } } }), {
      responseMimeType: 'application/json',
      responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } },
    });
    assert.equal(config({ response_format: { type: 'text' } }), undefined);
    refused({ response_format: { type: 'grammar' } }, 'response_format.type');
    refused({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: '#/nowhere' } } } }, 'response_format.json_schema.schema');
  });

  test('reasoning_effort: a thinking budget for Gemini 2.5, a thinking level for Gemini 3', () => {
    assert.deepEqual(config({ reasoning_effort: 'none' }), { thinkingConfig: { thinkingBudget: 0 } });
    assert.deepEqual(config({ reasoning_effort: 'medium' }), { thinkingConfig: { thinkingBudget: 8192 } });
    assert.deepEqual(config({ reasoning_effort: 'high' }, 'gemini-3-pro-preview'), { thinkingConfig: { thinkingLevel: 'high' } });
    assert.deepEqual(config({ reasoning_effort: 'none' }, 'gemini-3-flash'), { thinkingConfig: { thinkingLevel: 'minimal' } });
    refused({ reasoning_effort: 'extreme' }, 'reasoning_effort');
  });

  test('modalities: text only', () => {
    assert.equal(config({ modalities: ['text'] }), undefined);
    refused({ modalities: ['text', 'audio'] }, 'modalities');
  });

  test('tools become functionDeclarations; a function without parameters declares none', () => {
    const body = toGenerateContentRequest(request({ tools: [WEATHER, TIME, { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } }] }), 'm');
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          { name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } },
          { name: 'get_time', description: 'Now' },
          { name: 'ping' },
        ],
      },
    ]);
    assert.equal(body.toolConfig, undefined);
    refused({ tools: [{ type: 'custom', custom: { name: 'x' } }] }, 'tools[0].type');
  });

  test('tool_choice: auto, none, required, a named function, allowed_tools', () => {
    const mode = (tool_choice: ChatRequest['tool_choice']) => toGenerateContentRequest(request({ tools: [WEATHER, TIME], tool_choice }), 'm');
    assert.deepEqual(mode('auto').toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(mode('none').toolConfig, { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(mode('required').toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(mode({ type: 'function', function: { name: 'get_time' } }).toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } });
    const allowed = mode({ type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_time' } }] } } as never);
    assert.deepEqual(allowed.tools, [{ functionDeclarations: [{ name: 'get_time', description: 'Now' }] }]);
    assert.deepEqual(allowed.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    assert.equal(toGenerateContentRequest(request({ tool_choice: 'auto' }), 'm').toolConfig, undefined);
    refused({ tool_choice: 'required' }, 'tool_choice');
    refused({ tools: [], tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'tool_choice');
    refused({ tools: [WEATHER], tool_choice: { type: 'mystery' } }, 'tool_choice');
  });

  test('every field has a decision, and the refused ones are the ones Google cannot honour', () => {
    const rejected = Object.entries(GOOGLE_CHAT_FIELDS).filter(([, handling]) => handling === 'rejected').map(([field]) => field);
    assert.deepEqual(rejected.sort(), ['audio', 'function_call', 'functions', 'logit_bias', 'web_search_options']);
  });

  test('docs/providers/gemini.md lists every field with the handling fields.ts gives it', () => {
    const docs = readFileSync(new URL('../../../docs/providers/gemini.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const match of docs.matchAll(/^\| `([a-z_]+)` \| (pass|mapped|ignored|rejected) \|/gm)) rows.set(match[1]!, match[2]!);
    assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries(GOOGLE_CHAT_FIELDS).sort()));
  });
});

describe('GenerateContentResponse → chat.completion', () => {
  let ids = 0;
  const context: AnswerContext = { model: 'gemini-2.5-flash', requestId: 'req-1', newToolCallId: () => `call_${++ids}` };

  test('text parts join, thoughts stay out, ids and model come from Google when given', () => {
    const answer = fromGenerateContentResponse(
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'plan', thought: true }, { text: 'Guten ' }, { text: 'Tag' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, thoughtsTokenCount: 3, cachedContentTokenCount: 4, totalTokenCount: 10 },
        modelVersion: 'gemini-2.5-flash-001',
        responseId: 'abc',
      },
      context,
    );
    assert.equal(answer.id, 'chatcmpl-abc');
    assert.equal(answer.object, 'chat.completion');
    assert.equal(answer.model, 'gemini-2.5-flash-001');
    assert.deepEqual(answer.choices, [{ index: 0, message: { role: 'assistant', content: 'Guten Tag' }, finish_reason: 'stop', logprobs: null }]);
    assert.deepEqual(answer.usage, {
      prompt_tokens: 5,
      completion_tokens: 5,
      total_tokens: 10,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
  });

  test('function calls become tool calls with new ids, their arguments as JSON and the thought signature alongside', () => {
    const answer = fromGenerateContentResponse(
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Köln' } }, thoughtSignature: 'c2ln' }, { functionCall: { name: 'get_time', id: 'fc-7' } }] },
            finishReason: 'STOP',
          },
        ],
      },
      context,
    );
    const message = answer.choices[0]!.message;
    assert.equal(message.content, null);
    assert.deepEqual(message.tool_calls, [
      { id: `call_${ids}`, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' }, extra_content: { google: { thought_signature: 'c2ln' } } },
      { id: 'fc-7', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    assert.equal(answer.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(answer.id, 'chatcmpl-req-1');
    assert.deepEqual(answer.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  test('finish reasons: STOP, MAX_TOKENS, the safety family, and the ones OpenAI has no word for', () => {
    assert.equal(toFinishReason('STOP', false), 'stop');
    assert.equal(toFinishReason('STOP', true), 'tool_calls');
    assert.equal(toFinishReason('MAX_TOKENS', false), 'length');
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) assert.equal(toFinishReason(reason, false), 'content_filter');
    assert.equal(toFinishReason('OTHER', false), 'stop');
    assert.equal(toFinishReason('MALFORMED_FUNCTION_CALL', false), 'stop');
    assert.equal(toFinishReason(undefined, false), null);
    assert.equal(toFinishReason('FINISH_REASON_UNSPECIFIED', false), null);
  });

  test('a blocked prompt is an empty content_filter answer, not an error', () => {
    const answer = fromGenerateContentResponse({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } }, context);
    assert.deepEqual(answer.choices, [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null }]);
    assert.deepEqual(answer.usage, { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 });
  });

  test('several candidates keep their index; log probabilities take OpenAI\'s shape', () => {
    const response: GenerateContentResponse = {
      candidates: [
        { content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0, logprobsResult: { chosenCandidates: [{ token: 'a', logProbability: -0.5 }], topCandidates: [{ candidates: [{ token: 'a', logProbability: -0.5 }, { token: 'ä', logProbability: -2 }] }] } },
        { content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
    };
    const answer = fromGenerateContentResponse(response, context);
    assert.deepEqual(answer.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason]), [[0, 'a', 'stop'], [1, 'b', 'length']]);
    assert.deepEqual(answer.choices[0]!.logprobs, {
      content: [{ token: 'a', logprob: -0.5, bytes: [97], top_logprobs: [{ token: 'a', logprob: -0.5, bytes: [97] }, { token: 'ä', logprob: -2, bytes: [0xc3, 0xa4] }] }],
    });
    assert.equal(answer.choices[1]!.logprobs, null);
  });

  test('usage counts tool-use prompt tokens as prompt tokens', () => {
    assert.deepEqual(toUsage({ promptTokenCount: 3, toolUsePromptTokenCount: 2, candidatesTokenCount: 1 }), { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
  });
});
