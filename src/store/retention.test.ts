import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRetention } from './retention.js';
import { waitFor } from './testing/databases.js';

const DAY = 86_400_000;

test('retention deletes rows older than the given days, right away and then on its interval', async () => {
  const cutoffs: number[] = [];
  const deleted: number[] = [];
  const store = {
    deleteRequestsBefore: async (before: number) => {
      cutoffs.push(before);
      return 7;
    },
  };
  const retention = startRetention(store, 30, 10, { now: () => 100 * DAY, onDeleted: (count) => deleted.push(count) });
  try {
    await waitFor(() => cutoffs.length >= 3, 5_000, 'three runs');
  } finally {
    retention.stop();
  }
  assert.ok(cutoffs.every((cutoff) => cutoff === 70 * DAY));
  assert.ok(deleted.every((count) => count === 7));
  const runs = cutoffs.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(cutoffs.length, runs, 'no run after stop()');
});

test('retention runs never overlap, and a failing run is reported and retried next time', async () => {
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  const errors: unknown[] = [];
  const store = {
    deleteRequestsBefore: async () => {
      calls += 1;
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 15));
      active -= 1;
      if (calls === 1) throw new Error('database busy');
      return 1;
    },
  };
  const retention = startRetention(store, 1, 1, { onError: (error) => errors.push(error) });
  try {
    await waitFor(() => calls >= 3, 5_000, 'three runs');
    const [a, b] = await Promise.all([retention.runNow(), retention.runNow()]);
    assert.equal(a, b);
  } finally {
    retention.stop();
  }
  assert.equal(maxActive, 1);
  assert.equal(errors.length, 1);
});

test('the handle is also the stop function; the interval defaults to an hour', async () => {
  let calls = 0;
  const stop = startRetention({ deleteRequestsBefore: async () => ++calls }, 7);
  await waitFor(() => calls === 1, 5_000, 'the first run');
  assert.equal(await stop.runNow(), 2);
  stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 2);
});

test('retention refuses nonsense settings', () => {
  const store = { deleteRequestsBefore: async () => 0 };
  assert.throws(() => startRetention(store, 0, 1_000), RangeError);
  assert.throws(() => startRetention(store, Number.NaN, 1_000), RangeError);
  assert.throws(() => startRetention(store, 7, 0), RangeError);
});
