import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Utf8Chunks } from './utf8-chunks.js';

function decodeAll(chunks: readonly number[][]): string {
  const decoder = new Utf8Chunks();
  return chunks.map((chunk) => decoder.decode(Uint8Array.from(chunk))).join('');
}

test('a character split between chunks is completed by the next one', () => {
  const bytes = [...Buffer.from('é 😀 ü')];
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.equal(decodeAll([bytes.slice(0, cut), bytes.slice(cut)]), 'é 😀 ü', `cut at ${cut}`);
  }
  const emoji = [...Buffer.from('😀')];
  assert.equal(decodeAll(emoji.map((byte) => [byte])), '😀', 'one byte per chunk');
});

test('a byte order mark at the start is dropped, one later is text', () => {
  const bom = [0xef, 0xbb, 0xbf];
  assert.equal(decodeAll([[...bom, ...Buffer.from('data: 1')]]), 'data: 1');
  assert.equal(decodeAll([[bom[0]!], [bom[1]!, bom[2]!], [...Buffer.from('x')]]), 'x', 'even when the mark itself is split');
  assert.equal(decodeAll([[...Buffer.from('a')], bom]), 'a\ufeff');
  assert.equal(decodeAll([[], [...bom, 0x62]]), 'b', 'an empty first chunk does not count as the start');
});

test('malformed bytes become U+FFFD instead of failing', () => {
  assert.equal(decodeAll([[0x61, 0xff, 0x62]]), 'a\ufffdb');
  assert.equal(decodeAll([[0x61, 0xc3], [0x62]]), 'a\ufffdb', 'a sequence cut short by the next chunk');
});
