import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ResponseHeaders } from './response-headers.js';

/** The headers a real client receives when `fill` prepares them and writeHead sends them with `more`. */
async function received(
  fill: (headers: ResponseHeaders) => void,
  more?: OutgoingHttpHeaders,
): Promise<{ status: number; headers: IncomingHttpHeaders; raw: string[]; cookies: string[] }> {
  const server = createServer((_req, res) => {
    const headers = new ResponseHeaders();
    fill(headers);
    headers.writeHead(res, 201, more);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.text();
    const raw: string[] = [];
    response.headers.forEach((value, name) => raw.push(`${name}: ${value}`));
    return { status: response.status, headers: Object.fromEntries(response.headers), raw, cookies: response.headers.getSetCookie() };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('collected headers and the ones given to writeHead go out with the status; a later value replaces an earlier one', async () => {
  const { status, headers } = await received(
    (collected) => {
      collected.set('x-request-id', 'abc');
      collected.set('x-stellwerk-deployment', 'first');
      collected.set('x-stellwerk-deployment', 'second');
      collected.set('retry-after', '9');
    },
    { 'content-type': 'application/json', 'retry-after': '3', 'content-length': 2 },
  );
  assert.equal(status, 201);
  assert.equal(headers['x-request-id'], 'abc');
  assert.equal(headers['x-stellwerk-deployment'], 'second');
  assert.equal(headers['retry-after'], '3', "writeHead's own headers win, as over setHeader's");
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['content-length'], '2');
});

test('get and delete see what was set; a value list becomes one header line per value', async () => {
  const { raw, cookies } = await received((collected) => {
    collected.set('x-stellwerk-ignored-params', 'seed');
    assert.equal(collected.get('x-stellwerk-ignored-params'), 'seed');
    collected.delete('x-stellwerk-ignored-params');
    assert.equal(collected.get('x-stellwerk-ignored-params'), undefined);
    collected.delete('x-absent');
  }, { 'set-cookie': ['a=1', 'b=2'] });
  assert.ok(!raw.some((line) => line.startsWith('x-stellwerk-ignored-params')));
  assert.deepEqual(cookies, ['a=1', 'b=2']);
});

test('setting a header after the head is written throws, as setHeader does', async () => {
  let thrown: unknown = null;
  await received((collected) => {
    collected.set('x-request-id', 'abc');
    queueMicrotask(() => {
      try {
        collected.set('x-late', '1');
      } catch (error) {
        thrown = error;
      }
    });
  });
  assert.match(String(thrown), /head is written/);
});

test('a value Node refuses (a line break) is refused when the head is written, not sent', async () => {
  const server = createServer((_req, res) => {
    const headers = new ResponseHeaders();
    headers.set('x-stellwerk-deployment', 'evil\r\nset-cookie: x=1');
    assert.throws(() => headers.writeHead(res, 200), { code: 'ERR_INVALID_CHAR' });
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('set-cookie'), null);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
