import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { withUpstream } from './testing.js';
import { GatewayError } from '../../core/errors.js';
import { CallSignal } from './abort.js';
import { fetchEventStream, type EventStreamSettings } from './event-stream.js';
import type { StreamEvent } from '../types.js';
import { eventBatches } from '../event-batches.js';

const SETTINGS: EventStreamSettings = {
  isFinal: (value) => (value as { done?: boolean }).done === true,
  secrets: ['upstream-secret'],
  failure: (error) => (error instanceof GatewayError ? error : new GatewayError('upstream_error', { message: String(error) })),
  statusError: (answer) => new GatewayError('upstream_error', { message: `${answer.status} ${answer.headers['x-why'] ?? ''} ${answer.text}`, upstreamStatus: answer.status }),
  errorBodyLimit: 16,
};

const POST = { method: 'POST' as const, path: '/s', headers: { 'content-type': 'application/json' }, body: '{}' };


function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

async function collect<T>(events: AsyncIterable<StreamEvent<T>>): Promise<string[]> {
  const raws: string[] = [];
  for await (const event of events) raws.push(event.raw!);
  return raws;
}

test('fetchEventStream: events arrive in order, split anywhere; [DONE] ends the stream', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      const bytes = Buffer.from('data: {"n":1,"t":"grüß"}\n\ndata: {"n":2}\n\ndata: {"n":3,"done":true}\n\ndata: [DONE]\n\n');
      res.write(bytes.subarray(0, 20));
      setImmediate(() => res.end(bytes.subarray(20)));
    },
    async (pool) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      assert.deepEqual(await collect(events), ['{"n":1,"t":"grüß"}', '{"n":2}', '{"n":3,"done":true}']);
    },
  );
});

test('fetchEventStream: an error status rejects with its status, headers and the first bytes of its body', async () => {
  await withUpstream(
    (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'x-why': 'busy' });
      res.end('{"error":{"message":"overloaded, try again later"}}');
    },
    async (pool) => {
      await assert.rejects(fetchEventStream(pool, POST, new CallSignal(), SETTINGS), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.upstreamStatus, 503);
        assert.equal(error.message, '503 busy {"error":{"messa');
        return true;
      });
    },
  );
});

test('fetchEventStream: events before an error event are delivered, then the error; the connection is dropped', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.write('data: {"n":1}\n\ndata: {"error":{"message":"upstream-secret broke"}}\n\n');
    },
    async (pool, closed) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      const raws: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const event of events) raws.push(event.raw!);
        })(),
        (error: unknown) => error instanceof GatewayError && error.message === '[redacted] broke',
      );
      assert.deepEqual(raws, ['{"n":1}']);
      assert.equal(await closed, false);
    },
  );
});

test('fetchEventStream: a body that ends before [DONE] or a final event is an error', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.end('data: {"n":1}\n\n');
    },
    async (pool) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      await assert.rejects(collect(events), (error: unknown) => error instanceof GatewayError && /before the answer was complete/.test(error.message));
    },
  );
});

test('fetchEventStream: the signal aborts a stream that is waiting for its next event, and closes the connection', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.write('data: {"n":1}\n\n');
    },
    async (pool, closed) => {
      const signal = new CallSignal();
      const events = (await fetchEventStream(pool, POST, signal, SETTINGS))[Symbol.asyncIterator]();
      assert.equal((await events.next()).value?.raw, '{"n":1}');
      const waiting = events.next();
      const reason = new GatewayError('upstream_timeout');
      signal.abort(reason);
      await assert.rejects(waiting, (error) => error === reason);
      assert.equal(await closed, false);
      assert.deepEqual(await events.next(), { value: undefined, done: true });
    },
  );
});

test('fetchEventStream: a consumer that stops early aborts the call', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.write('data: {"n":1}\n\n');
    },
    async (pool, closed) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      for await (const event of events) {
        assert.equal(event.raw, '{"n":1}');
        break;
      }
      assert.equal(await closed, false);
    },
  );
});

test('fetchEventStream: a consumer that does not read pauses the upstream (backpressure), and then gets every event', async () => {
  const event = `data: {"pad":"${'x'.repeat(1_000)}"}\n\n`;
  const total = 20_000;
  let written = 0;
  let finished = false;
  await withUpstream(
    (_req, res) => {
      sse(res);
      // Writes as fast as the socket takes it. Without backpressure the gateway side would read
      // it all into memory, the server's 'drain' would keep coming, and it would finish.
      const pump = () => {
        while (written < total) {
          written++;
          if (!res.write(event)) {
            res.once('drain', pump);
            return;
          }
        }
        finished = true;
        res.end('data: {"done":true}\n\ndata: [DONE]\n\n');
      };
      pump();
    },
    async (pool) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      // Many turns of the event loop, each of which polls the sockets: enough for an unpaused
      // reader to take all 20 MB several times over (socket buffers hold a few MB).
      for (let turn = 0; turn < 2_000 && !finished; turn++) await new Promise(setImmediate);
      assert.equal(finished, false, `the server wrote all ${total} events: nothing held it back`);
      const raws = await collect(events);
      assert.equal(raws.length, total + 1);
    },
  );
});

test('fetchEventStream: nextBatch hands over every event decoded so far at once, then null at the end', async () => {
  let sendRest: () => void = () => {};
  await withUpstream(
    (_req, res) => {
      sse(res);
      // Three events in one write (one read on the other side), the rest only when asked.
      res.write('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\n');
      sendRest = () => res.end('data: {"n":4,"done":true}\n\ndata: [DONE]\n\n');
    },
    async (pool) => {
      const events = await fetchEventStream(pool, POST, new CallSignal(), SETTINGS);
      const batches = eventBatches(events);
      assert.deepEqual((await batches.nextBatch())!.map((event) => event.raw), ['{"n":1}', '{"n":2}', '{"n":3}']);
      const waiting = batches.nextBatch();
      sendRest();
      assert.deepEqual((await waiting)!.map((event) => event.raw), ['{"n":4,"done":true}']);
      assert.equal(await batches.nextBatch(), null);
      assert.equal(await batches.nextBatch(), null);
    },
  );
});

test('fetchEventStream: a batch holds the events before an error event; the next batch is the error', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.write('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"error":{"message":"upstream-secret broke"}}\n\n');
    },
    async (pool, closed) => {
      const batches = eventBatches(await fetchEventStream(pool, POST, new CallSignal(), SETTINGS));
      assert.deepEqual((await batches.nextBatch())!.map((event) => event.raw), ['{"n":1}', '{"n":2}']);
      await assert.rejects(batches.nextBatch(), (error: unknown) => error instanceof GatewayError && error.message === '[redacted] broke');
      assert.equal(await closed, false);
    },
  );
});

test('fetchEventStream: return() on a batched stream aborts the call', async () => {
  await withUpstream(
    (_req, res) => {
      sse(res);
      res.write('data: {"n":1}\n\n');
    },
    async (pool, closed) => {
      const batches = eventBatches(await fetchEventStream(pool, POST, new CallSignal(), SETTINGS));
      assert.equal((await batches.nextBatch())!.length, 1);
      batches.return();
      assert.equal(await closed, false);
    },
  );
});
