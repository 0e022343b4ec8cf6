import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withUpstream } from './testing.js';
import { GatewayError } from '../../core/errors.js';
import { CallSignal } from './abort.js';
import { fetchWhole, headerRecord } from './whole-answer.js';

const POST = { method: 'POST' as const, path: '/x', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };

test('fetchWhole: a body in many chunks arrives whole, with its status; the request body reached the server', async () => {
  const part = 'é'.repeat(10_000);
  await withUpstream(
    (req, res) => {
      let seen = '';
      req.setEncoding('utf8');
      req.on('data', (text: string) => (seen += text));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"seen":${JSON.stringify(seen)},"text":"`);
        // Split inside a two-byte character: decoding must happen once, over all of it.
        const bytes = Buffer.from(part);
        res.write(bytes.subarray(0, 7));
        res.write(bytes.subarray(7));
        res.end('"}');
      });
    },
    async (pool) => {
      const answer = await fetchWhole(pool, POST, new CallSignal(), 1024);
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.text), { seen: '{"a":1}', text: part });
    },
  );
});

test('fetchWhole: an error answer keeps its headers and at most the limit of its body', async () => {
  await withUpstream(
    (req, res) => {
      req.resume();
      res.writeHead(429, [['Retry-After', '3'], ['X-Note', 'a'], ['X-Note', 'b']].flat());
      res.end('x'.repeat(5_000));
    },
    async (pool) => {
      const answer = await fetchWhole(pool, POST, new CallSignal(), 1_000);
      assert.equal(answer.status, 429);
      assert.equal(answer.text, 'x'.repeat(1_000));
      assert.equal(answer.headers['retry-after'], '3');
      assert.equal(answer.headers['x-note'], 'a, b');
    },
  );
});

test('fetchWhole: aborting mid-answer rejects with the reason and closes the connection', async () => {
  let answering: () => void = () => {};
  const begun = new Promise<void>((resolve) => (answering = resolve));
  await withUpstream(
    (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":', () => answering());
    },
    async (pool, closed) => {
      const signal = new CallSignal();
      const pending = fetchWhole(pool, POST, signal, 1024);
      await begun;
      signal.abort(new GatewayError('client_closed_request'));
      const reason = await pending.catch((error: unknown) => error);
      assert.ok(reason instanceof GatewayError && reason.code === 'client_closed_request');
      assert.equal(await closed, false, 'the server saw its answer cut off');
    },
  );
});

test('fetchWhole: an already aborted signal sends nothing', async () => {
  let requests = 0;
  await withUpstream(
    (_req, res) => {
      requests++;
      res.end('{}');
    },
    async (pool) => {
      const signal = new CallSignal();
      const reason = new GatewayError('upstream_timeout');
      signal.abort(reason);
      await assert.rejects(fetchWhole(pool, POST, signal, 1024), (error) => error === reason);
      const after = await fetchWhole(pool, POST, new CallSignal(), 1024);
      assert.equal(after.text, '{}');
      assert.equal(requests, 1);
    },
  );
});

test('headerRecord: names lower-cased, repeats joined', () => {
  const raw = ['A', '1', 'b', '2', 'a', '3'].map((text) => Buffer.from(text));
  assert.deepEqual(headerRecord(raw), { a: '1, 3', b: '2' });
  assert.deepEqual(headerRecord(null), {});
});
