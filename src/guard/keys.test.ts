import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { KeyHasher, generateKey } from './keys.js';

test('KeyHasher: the memoised hash equals the HMAC, for repeated and for many different keys', () => {
  const hasher = new KeyHasher('pepper-for-tests-0123456789');
  const expected = (key: string) => createHmac('sha256', 'pepper-for-tests-0123456789').update(key).digest('hex');
  const first = generateKey();
  assert.equal(hasher.hash(first), expected(first));
  assert.equal(hasher.hash(first), expected(first), 'the remembered hash is the same');
  // More keys than the memo holds: the oldest are dropped and re-hashed correctly.
  const keys = Array.from({ length: 10_050 }, (_, index) => `sk-stw-${index}`);
  for (const key of keys) hasher.hash(key);
  for (const key of [first, keys[0]!, keys[10_049]!]) assert.equal(hasher.hash(key), expected(key));
  assert.ok((hasher as unknown as { memo: Map<string, string> }).memo.size <= 10_000, 'the memo stays bounded');
});
