import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonString } from './json-string.js';

test('jsonString writes every string as JSON.stringify does (quotes, controls, surrogates)', () => {
  const fixed = ['', 'plain', 'q"', 'back\\slash', '\u0001\u001f', '\u2028\u2029', '\ud83d\ude00', '\ud83d', '\ude00x', 'x\u007f', 'é'];
  for (const text of fixed) assert.equal(jsonString(text), JSON.stringify(text));
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    for (let j = Math.floor(next() * 6); j > 0; j--) text += String.fromCharCode(next() < 0.5 ? Math.floor(next() * 128) : Math.floor(next() * 65_536));
    assert.equal(jsonString(text), JSON.stringify(text), JSON.stringify(text));
  }
});
