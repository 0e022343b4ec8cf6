import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { AdmissionBatch, AdmissionScriptError } from './redis-admissions.js';
import { ADMIT_BATCH_LUA } from './redis-scripts.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `stellwerk-test:admissions:${randomUUID()}:`;
const redis = new Redis(REDIS_URL) as Redis & { admitBatch(...args: string[]): Promise<string[]> };
redis.defineCommand('admitBatch', { numberOfKeys: 0, lua: ADMIT_BATCH_LUA });

after(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** One admission's arguments as the script takes them: a single scope with only an rpm limit. */
function rpmAdmission(scope: string, rpm: number, windowMs = '60000'): string[] {
  return [PREFIX, windowMs, '600000', randomUUID(), '1', '0', '1000', '1000', '1', scope, String(rpm), '', '', '', 'total'];
}

interface Recorder {
  readonly batch: AdmissionBatch;
  readonly calls: string[][];
  readonly order: string[];
}

function recorder(maxBatch = 64, send?: (args: string[]) => Promise<string[]>): Recorder {
  const calls: string[][] = [];
  const order: string[] = [];
  const batch = new AdmissionBatch({
    send: (args) => {
      calls.push(args);
      order.push('send');
      return send ? send(args) : redis.admitBatch(...args);
    },
    beforeSend: () => order.push('before'),
    maxBatch,
  });
  return { batch, calls, order };
}

describe('AdmissionBatch', () => {
  test('admissions of one turn go as one script call, admitted one after the other: rpm 3 of 5', async () => {
    const { batch, calls, order } = recorder();
    const scope = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => batch.add(rpmAdmission(scope, 3))));
    assert.equal(calls.length, 1, 'one call');
    assert.deepEqual(order, ['before', 'send'], 'the settlements hook runs right before the call');
    const parsed = answers.map((answer) => JSON.parse(answer) as { ok: boolean; refusal?: string; status: { remaining_requests: number } });
    assert.deepEqual(
      parsed.map((answer) => answer.ok),
      [true, true, true, false, false],
    );
    assert.deepEqual(
      parsed.map((answer) => answer.status.remaining_requests),
      [2, 1, 0, 0, 0],
      'each admission sees the ones before it',
    );
    assert.equal(parsed[3]!.refusal, 'rpm');
    assert.equal(await redis.zcard(`${PREFIX}rpm:${scope}`), 3);
  });

  test('admissions of later turns go in later calls', async () => {
    const { batch, calls } = recorder();
    const scope = randomUUID();
    JSON.parse(await batch.add(rpmAdmission(scope, 10)));
    JSON.parse(await batch.add(rpmAdmission(scope, 10)));
    assert.equal(calls.length, 2);
  });

  test('a full batch is sent at once, the rest in the next call', async () => {
    const { batch, calls } = recorder(2);
    const scope = randomUUID();
    const pending = Array.from({ length: 3 }, () => batch.add(rpmAdmission(scope, 10)));
    assert.equal(calls.length, 1, 'the first two went before the turn ended');
    assert.equal(calls[0]![0], '2');
    await Promise.all(pending);
    assert.equal(calls.length, 2);
    assert.equal(calls[1]![0], '1');
  });

  test('an admission that fails in Redis fails alone; the others are answered', async () => {
    const { batch } = recorder();
    const scope = randomUUID();
    const results = await Promise.allSettled([
      batch.add(rpmAdmission(scope, 10)),
      batch.add(rpmAdmission(scope, 10, 'not-a-number')), // raises in the script, before any write
      batch.add(rpmAdmission(scope, 10)),
    ]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof AdmissionScriptError);
    assert.equal(JSON.parse((results[2] as PromiseFulfilledResult<string>).value).status.remaining_requests, 8);
  });

  test('a call that fails as a whole fails every admission in it', async () => {
    const failure = new Error('Redis went away');
    const { batch } = recorder(64, () => Promise.reject(failure));
    const results = await Promise.allSettled([batch.add(rpmAdmission('a', 1)), batch.add(rpmAdmission('b', 1))]);
    assert.deepEqual(
      results.map((result) => (result.status === 'rejected' ? result.reason : null)),
      [failure, failure],
    );
  });

  test('a send that throws at once fails the batch instead of the caller', async () => {
    const batch = new AdmissionBatch({
      send: () => {
        throw new Error('no connection');
      },
      beforeSend: () => {},
      maxBatch: 64,
    });
    await assert.rejects(batch.add(rpmAdmission('c', 1)), /no connection/);
  });
});
