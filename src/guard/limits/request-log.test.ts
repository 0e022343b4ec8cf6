import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestLog } from './request-log.js';

const W = 60_000;

test('an admission counts for exactly one window', () => {
  const log = new RequestLog();
  log.append(1_000);
  assert.equal(log.count(1_000 + W - 1, W), 1);
  assert.equal(log.count(1_000 + W, W), 0, 'gone at t + window: [t, t + window) holds it');
});

test('the wait is until the oldest admission that must leave has left', () => {
  const log = new RequestLog();
  for (const at of [0, 10_000, 20_000]) log.append(at);
  assert.equal(log.count(30_000, W), 3);
  assert.equal(log.waitMs(30_000, W, 4), 0, 'room now');
  assert.equal(log.waitMs(30_000, W, 3), 30_000, 'the first leaves at 60 s');
  assert.equal(log.waitMs(30_000, W, 2), 40_000, 'two must leave: the second at 70 s');
  assert.equal(log.waitMs(30_000, W, 0), W, 'a limit of 0 never fits: a window as back-off');
});

test('a wall clock that steps back never yields a wait below 1 ms', () => {
  const log = new RequestLog();
  log.append(50_000);
  log.append(10_000);
  assert.equal(log.count(75_000, W), 2, "the 10 s one hides behind the 50 s one: counted longer, never less");
  assert.equal(log.waitMs(75_000, W, 1), 1);
});
