import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateInputTokens } from './count-tokens.js';
import { toCanonicalRequest } from './translate-request.js';

test('the estimate is about four characters a token over all text, plus a flat amount per image', () => {
  const estimate = (body: Record<string, unknown>) => estimateInputTokens(toCanonicalRequest({ model: 'm', ...body }, { forCounting: true }).request);
  assert.equal(estimate({ messages: [{ role: 'user', content: 'x'.repeat(40) }] }), 10);
  assert.equal(estimate({ system: 'y'.repeat(8), messages: [{ role: 'user', content: 'x'.repeat(40) }] }), 12);
  assert.equal(estimate({ messages: [{ role: 'user', content: 'x' }] }), 1);
  const tool = { name: 'get_weather', input_schema: { type: 'object' } };
  assert.ok(estimate({ messages: [{ role: 'user', content: 'x' }], tools: [tool] }) > 1, 'tool definitions count');
  const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(100_000) } };
  assert.equal(estimate({ messages: [{ role: 'user', content: [image, { type: 'text', text: 'x'.repeat(4) }] }] }), 1_601);
  const call = { type: 'tool_use', id: 't', name: 'abcd', input: { a: 1 } };
  assert.equal(estimate({ messages: [{ role: 'assistant', content: [call] }] }), Math.ceil(('abcd'.length + '{"a":1}'.length) / 4));
});
