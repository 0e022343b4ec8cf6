import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const LOGGER = fileURLToPath(new URL('./logger.ts', import.meta.url));

function child(script: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\n${script}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return { proc, lines: () => out.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('logger: buffered lines on stdout are written out when the process exits', async () => {
  const { proc, lines } = child(`const log = createLogger('info'); for (let i = 0; i < 3; i++) log.info({ i }, 'line'); process.exit(0);`);
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0);
  assert.deepEqual(lines().map((line) => line.i), [0, 1, 2]);
  assert.match(String(lines()[0]!.time), /^\d{4}-\d\d-\d\dT/);
});

test('logger: a lone line on a quiet process is written without waiting for more', async () => {
  const { proc, lines } = child(`const log = createLogger('info'); log.info('alone'); setTimeout(() => {}, 60_000);`);
  try {
    await once(proc.stdout, 'data');
    assert.equal(lines()[0]!.msg, 'alone');
  } finally {
    proc.kill();
  }
});

test('logger: batches on stdout keep every line whole and in order: multi-byte text, more than a batch, a line larger than a batch', async () => {
  // Flushed before the exit, as `stellwerk start` does (an exit while the pipe is full would cut a write short).
  // 2,000 lines (every tenth of 1,000 three-byte characters) fill several 64 KB batches; the
  // 100,000-character line is larger than one.
  const { proc, lines } = child(
    `const log = createLogger('info');
     const text = (i) => (i % 10 === 0 ? '東'.repeat(1000) : 'Grüße, 東京 🚆 ' + 'x'.repeat(i % 50));
     for (let i = 0; i < 2000; i++) log.info({ i, text: text(i) }, 'line');
     log.info({ i: 2000, text: '€'.repeat(100000) }, 'big');
     log.info({ i: 2001 }, 'after');
     log.flush(() => process.exit(0));`,
  );
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0);
  const all = lines();
  assert.deepEqual(
    all.map((line) => line.i),
    Array.from({ length: 2002 }, (_, i) => i),
  );
  assert.equal(all[1999]!.text, 'Grüße, 東京 🚆 ' + 'x'.repeat(1999 % 50));
  assert.equal(all[1990]!.text, '東'.repeat(1000));
  assert.equal(all[2000]!.text, '€'.repeat(100000));
  assert.equal(all[2001]!.msg, 'after');
});

test('FieldLines writes the line pino would write for the same fields, at any level', async () => {
  const { Writable } = await import('node:stream');
  const { createLogger, FieldLines } = await import('./logger.js');
  const written: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('info', sink);
  const lines = new FieldLines(logger);
  const fields = { request_id: 'r-"1"', endpoint: 'chat', alias: 'demo', status: 200, stream: false, latency_ms: 1.25, pii: { email: 2 }, pii_mode: 'redact' };
  const text = ',"request_id":"r-\\"1\\"","endpoint":"chat","alias":"demo","status":200,"stream":false,"latency_ms":1.25,"pii":{"email":2},"pii_mode":"redact"';
  logger.info(fields, 'request');
  lines.write('info', text, '"request"');
  logger.warn({ ...fields, error_code: 'upstream_error' }, 'request');
  lines.write('warn', text + ',"error_code":"upstream_error"', '"request"');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(written.length, 4);
  const parsed = written.map((line) => {
    assert.ok(line.endsWith('\n'));
    const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
    assert.match(String(time), /^\d{4}-\d\d-\d\dT/);
    return rest;
  });
  for (const [viaPino, direct] of [parsed.slice(0, 2), parsed.slice(2, 4)]) {
    assert.deepEqual(direct, viaPino);
    assert.deepEqual(Object.keys(direct!), Object.keys(viaPino!), 'same order of keys');
  }
  assert.equal(parsed[2]!.level, 40);

  const quiet = new FieldLines(createLogger('warn', sink));
  assert.equal(quiet.enabled('info'), false);
  assert.equal(quiet.enabled('error'), true);
});

test('the time field is the same text as Date#toISOString, across milliseconds, seconds, days, years and the edges', async () => {
  const { isoTimeField } = await import('./logger.js');
  const field = (ms: number) => `,"time":"${new Date(ms).toISOString()}"`;
  const instants: number[] = [];
  // Runs of consecutive milliseconds over second, minute, day and year boundaries (the cache's cases), in order and back again.
  for (const start of [Date.UTC(2026, 10, 28, 23, 59, 59, 990), Date.UTC(2027, 0, 1, 0, 0, 0, 0) - 15, 1_700_000_000_000]) {
    for (let i = 0; i < 30; i++) instants.push(start + i);
    for (let i = 29; i >= 0; i--) instants.push(start + i);
  }
  // The same millisecond twice, jumps within one second, a leap day, and times the short form cannot write.
  instants.push(instants[0]!, Date.UTC(2024, 1, 29, 12, 0, 0, 5), Date.UTC(2024, 1, 29, 12, 0, 0, 999), 0, -1, -999, -1000, -1001, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1, 0, 0, 0, 1), 8.64e15);
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    instants.push(seed * 997);
  }
  for (const ms of instants) assert.equal(isoTimeField(ms), field(ms), `at ${ms}`);
});
