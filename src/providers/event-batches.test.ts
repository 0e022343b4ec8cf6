import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchIterator, eventBatches } from './event-batches.js';
import type { EventBatches, StreamEvent } from './types.js';

function event(n: number): StreamEvent<{ n: number }> {
  return { value: { n }, raw: JSON.stringify({ n }) };
}

test('eventBatches: any other stream comes one event per batch, then null', async () => {
  async function* three() {
    yield event(1);
    yield event(2);
    yield event(3);
  }
  const batches = eventBatches(three());
  const seen: number[][] = [];
  for (let batch = await batches.nextBatch(); batch !== null; batch = await batches.nextBatch()) seen.push(batch.map((e) => e.value.n));
  assert.deepEqual(seen, [[1], [2], [3]]);
  assert.equal(await batches.nextBatch(), null);
});

test('eventBatches: return() ends the source as leaving a for-await loop would, once', async () => {
  let finallyRan = 0;
  async function* endless() {
    try {
      for (let n = 1; ; n++) yield event(n);
    } finally {
      finallyRan++;
    }
  }
  const batches = eventBatches(endless());
  assert.deepEqual((await batches.nextBatch())!.map((e) => e.value.n), [1]);
  batches.return();
  batches.return();
  await new Promise(setImmediate);
  assert.equal(finallyRan, 1);
  assert.equal(await batches.nextBatch(), null);
});

test('eventBatches: a source that fails rejects its batch; after that the stream is over', async () => {
  async function* failing() {
    yield event(1);
    throw new Error('broke');
  }
  const batches = eventBatches(failing());
  assert.equal((await batches.nextBatch())!.length, 1);
  await assert.rejects(batches.nextBatch(), /broke/);
  batches.return();
  assert.equal(await batches.nextBatch(), null);
});

test('BatchIterator: the held batch comes first, one event or the rest of it at once, then the source; return reaches the source', async () => {
  const later: (readonly StreamEvent<{ n: number }>[] | null)[] = [[event(3), event(4)], null];
  let returned = 0;
  const source: EventBatches<{ n: number }> = {
    nextBatch: () => Promise.resolve(later.shift() ?? null),
    return: () => void returned++,
  };
  const reader = new BatchIterator(source, [event(1), event(2)]);
  assert.equal((await reader.next()).value?.value.n, 1);
  assert.deepEqual((await reader.nextBatch())!.map((e) => e.value.n), [2]);
  assert.equal((await reader.next()).value?.value.n, 3);
  assert.deepEqual((await reader.nextBatch())!.map((e) => e.value.n), [4]);
  assert.deepEqual(await reader.next(), { done: true, value: undefined });
  await reader.return();
  assert.equal(returned, 1);
});
