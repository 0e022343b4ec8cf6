import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { mapPacked } from './packed.js';

describe('mapPacked', () => {
  it('maps in order, like Array#map', () => {
    assert.deepEqual(mapPacked([1, 2, 3], (n) => n * 2), [2, 4, 6]);
    assert.deepEqual(mapPacked([], (n: number) => n), []);
  });

  it('gives an array that structured clone writes densely, even when the caller is optimized', () => {
    // v8.serialize is the format postMessage uses: a dense array is tagged 'A', a sparse one 'a'.
    const rows = [{ a: 1 }, { a: 2 }];
    const hot = (items: readonly { a: number }[]) => mapPacked(items, (row) => [row.a, null]);
    let bytes = serialize(hot(rows));
    for (let i = 0; i < 50_000; i++) bytes = serialize(hot(rows));
    assert.equal(bytes[2], 'A'.charCodeAt(0));
    assert.deepEqual(deserialize(bytes), [[1, null], [2, null]]);
  });
});
