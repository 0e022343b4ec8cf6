import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixHasher, promptBlockHashes } from './prefix-hash.js';
import { RecentSet } from './recent-set.js';
import { PickWindow } from './pick-window.js';

const chat = (...contents: string[]) => ({ model: 'm', messages: contents.map((content, index) => ({ role: index === 0 ? 'system' : 'user', content })) });

test('prefix hash: block i covers blocks 0..i, so prompts share exactly their common leading blocks', () => {
  const system = 'You are a helpful assistant. '.repeat(40);
  const a = promptBlockHashes(chat(system, 'What is the capital of France?'), 'm', 64, 512);
  const b = promptBlockHashes(chat(system, 'Tell me a joke about trains and signal boxes, please.'), 'm', 64, 512);
  let shared = 0;
  while (a[shared] === b[shared]) shared++;
  // The system prompt plus role markers fills 18 whole blocks; the first differing character is in block 18.
  assert.equal(shared, Math.floor(('system\n'.length + system.length + '\nuser\n'.length) / 64));
  const changedFirst = promptBlockHashes(chat('X' + system.slice(1), 'What is the capital of France?'), 'm', 64, 512);
  assert.equal(changedFirst.filter((hash, index) => hash === a[index]).length, 0, 'a change in block 0 changes every later block');
});

test('prefix hash: the seed (model) separates caches; only whole blocks count; the block cap holds', () => {
  const body = chat('x'.repeat(1000));
  assert.notDeepEqual(promptBlockHashes(body, 'model-a', 100, 512), promptBlockHashes(body, 'model-b', 100, 512));
  assert.equal(promptBlockHashes(body, 'm', 100, 512).length, Math.floor(('system\n'.length + 1000 + 1) / 100));
  assert.equal(promptBlockHashes(body, 'm', 100, 3).length, 3);
  assert.deepEqual(promptBlockHashes({ messages: [] }, 'm', 16, 8), []);
  assert.deepEqual(promptBlockHashes('not an object', 'm', 16, 8), []);
});

test('prefix hash: content parts, completions prompts; values are distinct 53-bit integers', () => {
  const parts = promptBlockHashes({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a'.repeat(64) }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'm', 32, 100);
  assert.equal(parts.length, 2);
  const prompt = promptBlockHashes({ prompt: 'b'.repeat(96) }, 'm', 32, 100);
  assert.equal(prompt.length, 3);
  for (const hash of [...parts, ...prompt]) assert.ok(Number.isSafeInteger(hash) && hash >= 0);
  const many = new Set<number>();
  const hasher = new PrefixHasher('m', 1, 200_000);
  for (let i = 0; i < 200_000; i++) hasher.add(String.fromCharCode(i % 65_536));
  for (const hash of hasher.blocks) many.add(hash);
  assert.equal(many.size, 200_000, 'no collision among 200,000 chained blocks');
});

test('recent set: bounded, forgets the least recently touched first', () => {
  const set = new RecentSet<number>(3);
  set.touch(1);
  set.touch(2);
  set.touch(3);
  set.touch(1);
  set.touch(4);
  assert.equal(set.size, 3);
  assert.ok(set.has(1) && set.has(3) && set.has(4));
  assert.ok(!set.has(2), '2 was the least recently used');
  assert.throws(() => new RecentSet(0), RangeError);
});

test('pick window: counts within the window and forgets older buckets', () => {
  const window = new PickWindow(1_000, 10);
  window.add(10_000);
  window.add(10_050, 2);
  window.add(10_500);
  assert.equal(window.total(10_600), 4);
  assert.equal(window.total(11_060), 1, 'the two oldest buckets left the window');
  assert.equal(window.total(50_000), 0);
});
