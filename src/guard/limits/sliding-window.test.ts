import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitsInWindow, remainingInWindow, waitForRoomMs } from './sliding-window.js';

const W = 60_000;

test('the previous window counts by its overlap, exactly at the edge', () => {
  const counts = { current: 0, previous: 5 };
  assert.equal(fitsInWindow(counts, 12_000, W, 5, 1), true, '5 × 48/60 = 4, plus 1 = 5');
  assert.equal(fitsInWindow(counts, 11_999, W, 5, 1), false);
  assert.equal(remainingInWindow(counts, 12_000, W, 5), 1);
  assert.equal(remainingInWindow(counts, 0, W, 5), 0);
  assert.equal(remainingInWindow({ current: 7, previous: 0 }, 0, W, 5), 0, 'never negative');
});

test('the wait is the first millisecond at which the amount fits', () => {
  const cases = [
    { counts: { current: 0, previous: 5 }, elapsed: 0, limit: 5, amount: 1 },
    { counts: { current: 2, previous: 7 }, elapsed: 1_234, limit: 10, amount: 3 },
    { counts: { current: 5, previous: 0 }, elapsed: 0, limit: 5, amount: 1 },
    { counts: { current: 999, previous: 333 }, elapsed: 59_999, limit: 1_000, amount: 7 },
    { counts: { current: 3, previous: 3 }, elapsed: 17, limit: 3, amount: 3 },
  ];
  for (const { counts, elapsed, limit, amount } of cases) {
    const wait = waitForRoomMs(counts, elapsed, W, limit, amount);
    assert.ok(wait > 0, JSON.stringify(counts));
    const at = (when: number): boolean =>
      when < W
        ? fitsInWindow(counts, when, W, limit, amount)
        : fitsInWindow({ current: 0, previous: counts.current }, when - W, W, limit, amount);
    assert.equal(at(elapsed + wait), true, `fits after ${wait} ms: ${JSON.stringify(counts)}`);
    assert.equal(at(elapsed + wait - 1), false, `not a millisecond earlier: ${JSON.stringify(counts)}`);
  }
  assert.equal(waitForRoomMs({ current: 0, previous: 0 }, 0, W, 5, 1), 0);
  assert.equal(waitForRoomMs({ current: 0, previous: 0 }, 0, W, 5, 6), W, 'never fits: a window as back-off');
});
