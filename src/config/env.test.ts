import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractReferences, resolvePlaceholders } from './env.js';

function resolve(text: string, env: Record<string, string | undefined>) {
  const extracted = extractReferences(text);
  return resolvePlaceholders(extracted.text, extracted.references, env);
}

test('a set variable is substituted, inside other text too', () => {
  assert.equal(resolve('Bearer ${TOKEN}', { TOKEN: 'abc' }).value, 'Bearer abc');
  assert.equal(resolve('${A}-${B}', { A: '1', B: '2' }).value, '1-2');
});

test('an unset variable without default is reported missing', () => {
  const result = resolve('${NOPE}', {});
  assert.deepEqual(result.missing.map((reference) => reference.name), ['NOPE']);
});

test('a default applies when the variable is unset or empty', () => {
  assert.equal(resolve('${PORT:-4000}', {}).value, '4000');
  assert.equal(resolve('${PORT:-4000}', { PORT: '' }).value, '4000');
  assert.equal(resolve('${PORT:-4000}', { PORT: '5000' }).value, '5000');
  assert.equal(resolve('${KEY:-}', {}).value, '');
  assert.equal(resolve('${KEY:-}', {}).missing.length, 0);
});

test('$${VAR} stays literal', () => {
  assert.equal(resolve('cost: $${PRICE}', { PRICE: '1' }).value, 'cost: ${PRICE}');
});

test('placeholders keep the length of the reference, so columns stay true', () => {
  const text = 'port: ${STELLWERK_PORT:-4000}, next';
  assert.equal(extractReferences(text).text.length, text.length);
});

test('wholeValue tells a value made of one reference', () => {
  assert.equal(resolve('${A}', { A: '1' }).wholeValue, true);
  assert.equal(resolve('x${A}', { A: '1' }).wholeValue, false);
  assert.equal(resolve('${A}${A}', { A: '1' }).wholeValue, false);
});
