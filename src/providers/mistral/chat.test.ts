import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest } from '../../core/types.js';
import { finishReason, toChatResponse, toMistralChat, toUsage, type MistralChatSettings } from './chat.js';
import { MISTRAL_CHAT_FIELDS } from './fields.js';
import { mistralToolCallId, toMistralMessages } from './messages.js';
import type { MistralChatResponse } from './wire.js';

const settings: MistralChatSettings = { model: 'mistral-large-latest', safePrompt: undefined };
const user: ChatMessage = { role: 'user', content: 'Hallo' };

function build(extra: Partial<ChatRequest> & Record<string, unknown>, override = settings) {
  return toMistralChat({ model: 'alias', messages: [user], ...extra } as ChatRequest, override);
}

function refusal(run: () => unknown, param: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    return true;
  });
}

describe('mistral request fields', () => {
  test('same-name fields pass, renamed ones are renamed, the model is the deployment\'s', () => {
    const out = build({
      temperature: 0.3,
      top_p: 0.9,
      stop: ['\n'],
      n: 2,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      parallel_tool_calls: false,
      max_tokens: 10,
      max_completion_tokens: 20,
      seed: 42,
    });
    assert.deepEqual(out, {
      model: 'mistral-large-latest',
      messages: [{ role: 'user', content: 'Hallo' }],
      temperature: 0.3,
      top_p: 0.9,
      stop: ['\n'],
      n: 2,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      parallel_tool_calls: false,
      max_tokens: 20,
      random_seed: 42,
    });
    assert.equal(build({ max_tokens: 7 }).max_tokens, 7);
  });

  test('ignored fields are left out; unknown ones (Mistral\'s own) travel as sent', () => {
    const out = build({ user: 'u', metadata: { a: 'b' }, store: true, service_tier: 'auto', reasoning_effort: 'low', stream_options: { include_usage: true }, stream: true, prompt_mode: 'reasoning', safe_prompt: true });
    assert.deepEqual(Object.keys(out).sort(), ['messages', 'model', 'prompt_mode', 'safe_prompt']);
    for (const [field, handling] of Object.entries(MISTRAL_CHAT_FIELDS)) {
      if (handling === 'ignored') assert.ok(!(field in out), field);
    }
  });

  test('the deployment\'s safe_prompt applies unless the request sets its own', () => {
    assert.equal(build({}, { ...settings, safePrompt: true }).safe_prompt, true);
    assert.equal(build({ safe_prompt: false }, { ...settings, safePrompt: true }).safe_prompt, false);
    assert.equal('safe_prompt' in build({}), false);
  });

  test('tools, tool_choice ("required" is "any") and a missing parameters schema', () => {
    const out = build({ tools: [{ type: 'function', function: { name: 'f', description: 'd', strict: true } }], tool_choice: 'required' });
    assert.deepEqual(out.tools, [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} }, description: 'd', strict: true } }]);
    assert.equal(out.tool_choice, 'any');
    assert.equal(build({ tool_choice: 'none' }).tool_choice, 'none');
    assert.deepEqual(build({ tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice, { type: 'function', function: { name: 'f' } });
    refusal(() => build({ tools: [{ type: 'custom', custom: { name: 'x' } }] }), 'tools[0].type');
    refusal(() => build({ tool_choice: { type: 'allowed_tools' } }), 'tool_choice');
  });

  test('response_format: text, json_object and json_schema; others refused', () => {
    const schema = { name: 'answer', schema: { type: 'object' }, strict: true };
    assert.deepEqual(build({ response_format: { type: 'json_schema', json_schema: schema } }).response_format, { type: 'json_schema', json_schema: schema });
    assert.deepEqual(build({ response_format: { type: 'json_object' } }).response_format, { type: 'json_object' });
    refusal(() => build({ response_format: { type: 'grammar' } }), 'response_format.type');
  });

  test('prediction: a string, or text parts joined', () => {
    assert.deepEqual(build({ prediction: { type: 'content', content: 'abc' } }).prediction, { type: 'content', content: 'abc' });
    assert.deepEqual(build({ prediction: { type: 'content', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] } }).prediction, { type: 'content', content: 'ab' });
    refusal(() => build({ prediction: { type: 'other' } }), 'prediction');
  });

  test('harmless values of unsupported features pass; real requests for them are refused', () => {
    const harmless = build({ logprobs: false, top_logprobs: 0, logit_bias: {}, modalities: ['text'] });
    assert.deepEqual(Object.keys(harmless).sort(), ['messages', 'model']);
    refusal(() => build({ logprobs: true }), 'logprobs');
    refusal(() => build({ top_logprobs: 3 }), 'top_logprobs');
    refusal(() => build({ logit_bias: { '50256': -100 } }), 'logit_bias');
    refusal(() => build({ modalities: ['text', 'audio'] }), 'modalities');
  });
});

describe('mistral messages', () => {
  test('developer becomes system; name and fields of earlier answers are dropped', () => {
    const out = toMistralMessages([
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Hi', name: 'anna' },
      { role: 'assistant', content: 'Hello', refusal: null, annotations: [], audio: null, reasoning_content: 'x' },
      { role: 'user', content: [{ type: 'text', text: 'And?' }] },
    ]);
    assert.deepEqual(out, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: [{ type: 'text', text: 'And?' }] },
    ]);
  });

  test('images (data and http URLs, detail kept) and audio in user messages', () => {
    const [message] = toMistralMessages([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'high' } },
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        ],
      },
    ]);
    assert.deepEqual(message!.content, [
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'high' } },
      { type: 'input_audio', input_audio: 'UklGRg==' },
    ]);
  });

  test('parts Mistral cannot take are refused, naming where', () => {
    refusal(() => toMistralMessages([{ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }]), 'messages[0].content[0].type');
    refusal(() => toMistralMessages([{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]), 'messages[0].content[0].type');
    refusal(() => toMistralMessages([{ role: 'function', name: 'f', content: '{}' }]), 'messages[0].role');
    refusal(() => toMistralMessages([{ role: 'tool', content: 'x' }]), 'messages[0].tool_call_id');
  });

  test('foreign tool-call ids become Mistral ids, the same in the call and its result; the result gets the name', () => {
    const out = toMistralMessages([
      user,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9f8e7d6c5b4a39281706', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } }] },
      { role: 'tool', tool_call_id: 'call_9f8e7d6c5b4a39281706', content: '{"sky":"clear"}' },
    ]);
    const id = mistralToolCallId('call_9f8e7d6c5b4a39281706');
    assert.match(id, /^[A-Za-z0-9]{9}$/);
    assert.deepEqual(out[1], { role: 'assistant', tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Köln"}' } }] });
    assert.deepEqual(out[2], { role: 'tool', content: '{"sky":"clear"}', tool_call_id: id, name: 'get_weather' });
  });

  test('mistralToolCallId keeps Mistral ids, and maps others stably and distinctly', () => {
    assert.equal(mistralToolCallId('D681PevKs'), 'D681PevKs');
    assert.equal(mistralToolCallId('toolu_01A09q90qw90lq917835lq9'), mistralToolCallId('toolu_01A09q90qw90lq917835lq9'));
    const ids = new Set(Array.from({ length: 2_000 }, (_, i) => mistralToolCallId(`call_${i}`)));
    assert.equal(ids.size, 2_000);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9]{9}$/);
  });
});

describe('mistral answers', () => {
  const response = (message: MistralChatResponse['choices'][number]['message'], finish: string, usage: MistralChatResponse['usage'] = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }): MistralChatResponse => ({
    id: 'cmpl-1',
    object: 'chat.completion',
    model: 'mistral-large-2411',
    created: 1_720_000_000,
    usage,
    choices: [{ index: 0, message, finish_reason: finish }],
  });

  test('a text answer', () => {
    const out = toChatResponse(response({ role: 'assistant', content: 'Hallo!', tool_calls: null, prefix: false }, 'stop'), 1);
    assert.deepEqual(out, {
      id: 'cmpl-1',
      object: 'chat.completion',
      created: 1_720_000_000,
      model: 'mistral-large-2411',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hallo!' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
  });

  test('tool calls: type added, object arguments as JSON text, empty content as null', () => {
    const out = toChatResponse(
      response({ role: 'assistant', content: '', tool_calls: [{ id: 'D681PevKs', function: { name: 'f', arguments: { city: 'Köln' } } }] }, 'tool_calls'),
      1,
    );
    assert.deepEqual(out.choices[0]!.message, {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'D681PevKs', type: 'function', function: { name: 'f', arguments: '{"city":"Köln"}' } }],
    });
    assert.equal(out.choices[0]!.finish_reason, 'tool_calls');
  });

  test('thinking chunks become reasoning_content beside the text', () => {
    const out = toChatResponse(
      response({ role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm.' }] }, { type: 'text', text: 'Ja.' }] }, 'stop'),
      1,
    );
    assert.deepEqual(out.choices[0]!.message, { role: 'assistant', content: 'Ja.', reasoning_content: 'Hmm.' });
  });

  test('finish reasons: model_length is length, error is an upstream error, unknown is a bad response', () => {
    assert.equal(finishReason('model_length'), 'length');
    assert.equal(finishReason('length'), 'length');
    assert.equal(finishReason(null), null);
    assert.throws(() => finishReason('error'), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_error' && error.status === 502);
    assert.throws(() => finishReason('banana'), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_bad_response');
  });

  test('usage: totals filled in, cached tokens from either shape', () => {
    assert.deepEqual(toUsage({ prompt_tokens: 4, completion_tokens: 2 }), { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    assert.deepEqual(toUsage({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6, prompt_tokens_details: { cached_tokens: 3 } }).prompt_tokens_details, { cached_tokens: 3 });
    assert.deepEqual(toUsage({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6, num_cached_tokens: 1 }).prompt_tokens_details, { cached_tokens: 1 });
    assert.deepEqual(toUsage(undefined), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});

test('docs/providers/mistral.md lists every field with the handling fields.ts gives it', () => {
  const docs = readFileSync(new URL('../../../docs/providers/mistral.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of docs.matchAll(/^\| `([a-z_]+)` \| (pass|mapped|ignored|rejected) \|/gm)) rows.set(match[1]!, match[2]!);
  assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries(MISTRAL_CHAT_FIELDS).sort()));
});
