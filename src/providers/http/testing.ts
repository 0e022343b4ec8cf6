import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

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
