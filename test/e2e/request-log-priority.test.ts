import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startGateway, WRITER_WAIT_MS } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { waitFor } from '../../src/store/testing/databases.js';
import { idleThreads } from '../../src/store/testing/threads.js';

/**
 * `governance.request_log_priority`: the gateway's request-log writer thread runs in Linux's
 * SCHED_IDLE class by default, and like every other thread with `normal` (docs/storage.md).
 */

const LINUX = process.platform === 'linux';
let emulator: Emulator;
let dir: string;
before(async () => {
  emulator = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'stellwerk-request-log-priority-'));
});
after(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, priority: string | null): Promise<{ idle: number; rows: number }> {
  const path = join(dir, `${name}.db`);
  const setting = priority === null ? '' : `, request_log_priority: ${priority}`;
  const running = await startGateway(`governance: { sqlite_path: ${path}${setting} }
models:
  - name: chat
    deployments: [{ provider: openai-compatible, base_url: ${emulator.url}, model: emu-model }]
`);
  try {
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] });
    const governance = running.gateway.runtime.governance!;
    // The row goes out with the writer's next timed batch (100 ms), through the thread under test.
    await waitFor(() => governance.writer.written === 1, WRITER_WAIT_MS, 'the request row');
    return { idle: idleThreads().length, rows: governance.writer.written };
  } finally {
    await running.close();
  }
}

test('by default the request log is written by a SCHED_IDLE thread; with request_log_priority: normal by none', { skip: LINUX ? false : 'Linux scheduling classes' }, async () => {
  const before = idleThreads().length;
  assert.deepEqual(await run('default', null), { idle: before + 1, rows: 1 });
  await waitFor(() => idleThreads().length === before, 5_000, 'the writer thread to end with the gateway');
  assert.deepEqual(await run('normal', 'normal'), { idle: before, rows: 1 });
});
