import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { GatewayError } from '../../core/errors.js';
import { abortReason, asAbortSignal, CallSignal, untilAborted } from './abort.js';

test('CallSignal: listeners run once on abort, the first reason stays, removed ones never run', () => {
  const signal = new CallSignal();
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = () => calls.push('b');
  signal.addEventListener('abort', a);
  signal.addEventListener('abort', b);
  signal.removeEventListener('abort', a);
  assert.equal(signal.aborted, false);
  const first = new GatewayError('upstream_timeout');
  signal.abort(first);
  signal.abort(new GatewayError('client_closed_request'));
  assert.deepEqual(calls, ['b']);
  assert.equal(signal.aborted, true);
  assert.equal(abortReason(signal), first);
  signal.addEventListener('abort', a);
  assert.deepEqual(calls, ['b'], 'a listener added after the abort is not called');
});

test('CallSignal: untilAborted and timers/promises stop on abort with its reason', async () => {
  const signal = new CallSignal();
  const never = new Promise<never>(() => {});
  const waiting = untilAborted(never, signal);
  const sleeping = sleep(60_000, undefined, { signal: asAbortSignal(signal) });
  const reason = new GatewayError('client_closed_request');
  signal.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  await assert.rejects(sleeping, (error: Error) => error.name === 'AbortError');
});

test('CallSignal: aborts an undici request whose upstream never answers', async (t) => {
  const server = createServer(() => {
    /* never answers */
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(async () => {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  });
  const signal = new CallSignal();
  const request = pool.request({ method: 'GET', path: '/', signal: asAbortSignal(signal) });
  await once(server, 'request');
  const reason = new GatewayError('upstream_timeout');
  signal.abort(reason);
  await assert.rejects(request, (error) => error === reason);
});
