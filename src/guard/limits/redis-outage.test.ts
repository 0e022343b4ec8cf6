import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisOutageReporter } from './redis-outage.js';

test('an outage is logged once at error, repeated at most every repeatMs with a count, and its end at warn', () => {
  let now = 0;
  const lines: { message: string; level: string; failures?: unknown }[] = [];
  const reporter = new RedisOutageReporter((message, fields) => lines.push({ message, level: fields.level, failures: fields.failures }), 'fail-open', 10_000, () => now);
  reporter.recovered();
  assert.equal(lines.length, 0, 'nothing to report while Redis is there');
  reporter.failed(new Error('connect ECONNREFUSED'), 'admit');
  for (let i = 0; i < 5; i++) reporter.failed(new Error('connect ECONNREFUSED'), 'admit');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 'error');
  assert.match(lines[0]!.message, /per replica.*fail-open/);
  now = 10_000;
  reporter.failed(new Error('connect ECONNREFUSED'), 'connection');
  assert.deepEqual(lines[1], { message: 'limits: Redis still unreachable', level: 'error', failures: 6 });
  reporter.recovered();
  reporter.recovered();
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.level, 'warn');
  assert.equal(reporter.isDown, false);
});
