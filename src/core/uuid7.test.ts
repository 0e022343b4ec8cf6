import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uuid7 } from './uuid7.js';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid7', () => {
  test('has the version 7 and variant bits, and the time in the first 48 bits', () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = uuid7(now);
    assert.match(id, SHAPE);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms >= now && ms <= now + 1, `time ${ms} from ${now}`);
  });

  test('ids made one after the other sort in that order, within one millisecond and across many', () => {
    const ids: string[] = [];
    const start = Date.now() + 10_000; // ahead of any earlier call in this process
    for (let i = 0; i < 10_000; i++) ids.push(uuid7(start + Math.floor(i / 3_000)));
    const sorted = [...ids].sort();
    assert.deepEqual(sorted, ids);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, SHAPE);
  });

  test('a clock that goes back does not make an id sort before an earlier one', () => {
    const first = uuid7(Date.now() + 20_000);
    const second = uuid7(Date.now() + 19_000);
    assert.ok(second > first);
  });

  test('the random tail differs from id to id', () => {
    const tails = new Set<string>();
    for (let i = 0; i < 1_000; i++) tails.add(uuid7().slice(19));
    assert.equal(tails.size, 1_000);
  });
});
