import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, GatewayError, toGatewayError } from './errors.js';

test('docs/errors.md lists exactly the codes of the error table, with the same status, type, level and message', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const match = /^\| `([a-z_]+)` \| (.+) \|$/.exec(line);
    if (match) rows.set(match[1]!, match[2]!.split(' | ').map((cell) => cell.replace(/`/g, '').trim()));
  }
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.deepEqual(rows.get(code), [String(spec.status), spec.type, spec.level, spec.message], code);
  }
});

test('a GatewayError takes status, type and message from the table unless told otherwise', () => {
  const plain = new GatewayError('model_not_found');
  assert.equal(plain.status, 404);
  assert.equal(plain.type, 'invalid_request_error');
  assert.equal(plain.message, ERROR_CODES.model_not_found.message);
  const relayed = new GatewayError('upstream_client_error', { status: 422, message: 'bad schema', param: 'tools' });
  assert.equal(relayed.status, 422);
  assert.equal(relayed.param, 'tools');
});

test('anything else thrown becomes an internal error that hides its message', () => {
  const error = toGatewayError(new Error('secret detail at /srv/app.js:1'));
  assert.equal(error.code, 'internal_error');
  assert.equal(error.status, 500);
  assert.ok(!error.message.includes('secret'));
});
