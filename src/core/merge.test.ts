import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mergeRecords, withFields } from './merge.js';

test('mergeRecords keeps first-seen order and lets later parts win, like a spread', () => {
  const base = { 'content-type': 'application/json', authorization: 'Bearer a' };
  const merged = mergeRecords(base, undefined, { traceparent: 't' }, { authorization: 'Bearer b', 'x-request-id': 'r' });
  assert.deepEqual(Object.entries(merged), [
    ['content-type', 'application/json'],
    ['authorization', 'Bearer b'],
    ['traceparent', 't'],
    ['x-request-id', 'r'],
  ]);
  assert.notEqual(merged, base);
  assert.deepEqual(base, { 'content-type': 'application/json', authorization: 'Bearer a' });
});

test('withFields copies and sets, leaving the source as it was', () => {
  const request = { model: 'alias', messages: [], stream: false as boolean | undefined };
  const sent = withFields(request, { model: 'upstream-id', stream: true });
  assert.equal(JSON.stringify(sent), '{"model":"upstream-id","messages":[],"stream":true}');
  assert.equal(sent.messages, request.messages);
  assert.equal(request.model, 'alias');
});

test('objects built by mergeRecords and withFields share one hidden class', () => {
  // V8's own view, through its test natives, in a child process (the flag must be set at start-up).
  const program = `
    const { mergeRecords, withFields } = await import(${JSON.stringify(new URL('./merge.ts', import.meta.url).href)});
    const base = { 'content-type': 'application/json' };
    const parsed = () => JSON.parse('{"model":"m","messages":[],"max_tokens":16}');
    const build = {
      merge: (id) => mergeRecords(base, { 'x-request-id': id }),
      fields: () => withFields(parsed(), { model: 'u', stream: true, stream_options: { include_usage: true } }),
    };
    const out = {};
    for (const [name, make] of Object.entries(build)) {
      for (let i = 0; i < 2000; i++) make(String(i));
      out[name] = %HaveSameMap(make('a'), make('b'));
    }
    console.log(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', program], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  // (On Node 20, \`{ ...base, 'x-request-id': id }\` gives false here.)
  assert.deepEqual(JSON.parse(child.stdout), { merge: true, fields: true });
});
