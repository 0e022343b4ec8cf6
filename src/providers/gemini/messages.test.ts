import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage } from '../../core/types.js';
import { mimeFromName, SIGNATURE_FALLBACK, toGeminiContents } from './messages.js';

function refused(messages: ChatMessage[], param: string, message?: RegExp): void {
  assert.throws(
    () => toGeminiContents(messages),
    (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param && (message === undefined || message.test(error.message)),
  );
}

const call = (id: string, name: string, args: string, signature?: string) => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
  ...(signature === undefined ? {} : { extra_content: { google: { thought_signature: signature } } }),
});

describe('OpenAI messages → Google contents', () => {
  test('system and developer messages become one systemInstruction, in order', () => {
    const { contents, systemInstruction } = toGeminiContents([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hallo' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in German.' }] },
    ]);
    assert.deepEqual(systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Answer in German.' }] });
    assert.deepEqual(contents, [{ role: 'user', parts: [{ text: 'Hallo' }] }]);
  });

  test('images: data URLs inline (base64 or not), http(s) and gs:// as fileData with a MIME type from the name', () => {
    const { contents } = toGeminiContents([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'data:text/plain,hello%20world' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a/photo.JPG?size=large#top' } },
          { type: 'image_url', image_url: { url: 'https://example.com/render' } },
          { type: 'image_url', image_url: { url: 'gs://bucket/scan.pdf' } },
        ],
      },
    ]);
    assert.deepEqual(contents[0]!.parts, [
      { text: 'Look' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { inlineData: { mimeType: 'text/plain', data: Buffer.from('hello world').toString('base64') } },
      { fileData: { fileUri: 'https://example.com/a/photo.JPG?size=large#top', mimeType: 'image/jpeg' } },
      { fileData: { fileUri: 'https://example.com/render', mimeType: 'image/jpeg' } },
      { fileData: { fileUri: 'gs://bucket/scan.pdf', mimeType: 'application/pdf' } },
    ]);
    assert.equal(mimeFromName('https://x/y.webp'), 'image/webp');
    assert.equal(mimeFromName('https://x/y'), null);
  });

  test('audio and inline files become inlineData; file ids and unknown parts are refused', () => {
    const { contents } = toGeminiContents([
      {
        role: 'user',
        content: [
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      },
    ]);
    assert.deepEqual(contents[0]!.parts, [{ inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } }, { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } }]);
    refused([{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }], 'messages[0].content[0].file');
    refused([{ role: 'user', content: [{ type: 'video', video: {} }] }], 'messages[0].content[0].type');
    refused([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }], 'messages[0].content[0].image_url.url');
  });

  test('assistant tool calls become functionCall parts with their thought signature; the fallback only where one is missing on the first', () => {
    const { contents } = toGeminiContents([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [call('c1', 'get_weather', '{"city":"Köln"}', 'c2ln'), call('c2', 'get_time', '')] },
      { role: 'tool', tool_call_id: 'c1', content: '{"sky":"clear"}' },
      { role: 'tool', tool_call_id: 'c2', content: 'noon' },
      { role: 'assistant', content: null, tool_calls: [call('c3', 'get_weather', '{}')] },
      { role: 'tool', tool_call_id: 'c3', content: [{ type: 'text', text: '[1,2]' }] },
      { role: 'user', content: 'Thanks' },
    ]);
    assert.deepEqual(contents, [
      { role: 'user', parts: [{ text: 'Weather?' }] },
      {
        role: 'model',
        parts: [{ text: 'Checking.' }, { functionCall: { name: 'get_weather', args: { city: 'Köln' } }, thoughtSignature: 'c2ln' }, { functionCall: { name: 'get_time', args: {} } }],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }, { functionResponse: { name: 'get_time', response: { result: 'noon' } } }],
      },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} }, thoughtSignature: SIGNATURE_FALLBACK }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: '[1,2]' } } }, { text: 'Thanks' }] },
    ]);
  });

  test('consecutive turns of one role merge; empty assistant turns are left out', () => {
    const { contents } = toGeminiContents([
      { role: 'user', content: 'a' },
      { role: 'user', content: [{ type: 'text', text: 'b' }] },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'c' },
    ]);
    assert.deepEqual(contents, [{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] }]);
  });

  test('what Google cannot take is refused with the field named', () => {
    refused([{ role: 'function', name: 'f', content: 'x' }], 'messages[0].role');
    refused([{ role: 'system', content: 'only a system message' }], 'messages');
    refused([{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'y' }], 'messages[1].tool_call_id', /earlier assistant message/);
    refused([{ role: 'assistant', content: null, tool_calls: [call('c', 'f', '{not json')] }], 'messages[0].tool_calls[0].function.arguments', /not valid JSON/);
    refused([{ role: 'assistant', content: null, tool_calls: [call('c', 'f', '[1]')] }], 'messages[0].tool_calls[0].function.arguments', /JSON object/);
    refused([{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }], 'messages[0].content[0].type');
  });
});
