import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { GatewayError } from '../../core/errors.js';
import type { StreamEvent } from '../types.js';
import { SseJsonDecoder, type SseDecodeOptions, type SseEvent } from './sse-events.js';

/**
 * For tests of upstream reading: a real HTTP server answering with `handle`, and a pool to it. `closed` resolves when the server's response closes: true if
 * it was written to the end, false if the connection went first.
 */
export async function withUpstream(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  run: (pool: Pool, closed: Promise<boolean>) => Promise<void>,
): Promise<void> {
  let closedWith: (finished: boolean) => void = () => {};
  const closed = new Promise<boolean>((resolve) => (closedWith = resolve));
  const server = createServer((req, res) => {
    res.on('close', () => closedWith(res.writableFinished));
    handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 2 });
  try {
    await run(pool, closed);
  } finally {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  }
}

export interface SseJsonOptions extends SseDecodeOptions {
  /** Called for every failure while reading, to turn it into a GatewayError (abort reasons, timeouts). */
  readonly failure: (error: unknown) => GatewayError;
}

/**
 * For tests of stream decoding and of the adapters' stream translations: the events of a body
 * given as an async iterable, SseJsonDecoder over its chunks (as UpstreamClient.streamEvents
 * decodes a real upstream's), each failure through `failure`. The next chunk is pulled only when
 * the consumer asks for the next event.
 */
export async function* sseJsonEvents<T>(body: AsyncIterable<Buffer | Uint8Array>, options: SseJsonOptions): AsyncGenerator<StreamEvent<T>> {
  let pending: SseEvent<T>[] = [];
  const decoder = new SseJsonDecoder<T>(options, (event) => void pending.push(event));
  try {
    // After `[DONE]` the rest of the body is still read (it is normally empty) so that the
    // connection ends cleanly and stays in the keep-alive pool.
    for await (const chunk of body) {
      if (!decoder.open) continue;
      decoder.feed(chunk);
      const events = pending;
      pending = [];
      for (const event of events) yield event;
      if (decoder.error !== null) throw decoder.error;
    }
  } catch (error) {
    throw options.failure(error);
  } finally {
    // Reached early only when the consumer stopped (client gone) or reading failed.
    destroyBody(body);
  }
  const cutOff = decoder.finish();
  if (cutOff !== null) throw cutOff;
}

/** Stops reading an upstream body we no longer need, so its connection is freed or closed. */
function destroyBody(body: unknown): void {
  const destroy = (body as { destroy?: () => void }).destroy;
  if (typeof destroy === 'function') destroy.call(body);
}
