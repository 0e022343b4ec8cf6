import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AuditStore } from '../audit/audit-store.js';
import { verifyAuditChain } from '../audit/verify.js';
import { openStore } from './open-store.js';
import { RequestWriter } from './request-writer.js';
import { SqliteWorkerSink } from './sqlite-writer.js';
import { waitFor } from './testing/databases.js';
import { request } from './testing/store-contract.js';
import { idleThreads, ownTid, SCHED_IDLE, SCHED_OTHER, schedulingOf } from './testing/threads.js';

const LINUX = process.platform === 'linux';

test('lowerThisThread puts the calling worker thread, and only it, into SCHED_IDLE', { skip: LINUX ? false : 'Linux scheduling classes' }, async () => {
  const entry = new URL('./thread-priority.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })
       .then(({ lowerThisThread, threadId }) => {
         const { parentPort } = require('node:worker_threads');
         parentPort.postMessage({ tid: threadId(), lowered: lowerThisThread() });
         parentPort.once('message', () => process.exit(0));
       });`,
    { eval: true },
  );
  try {
    const [{ tid, lowered }] = (await once(worker, 'message')) as [{ tid: number; lowered: string }];
    assert.notEqual(tid, ownTid());
    // chrt is part of util-linux, which this project's machines have; without it the thread is niced.
    assert.equal(lowered, 'idle');
    assert.equal(schedulingOf(tid)?.policy, SCHED_IDLE);
    assert.deepEqual(schedulingOf(ownTid()), { policy: SCHED_OTHER, nice: 0 });
  } finally {
    worker.postMessage('stop');
    await once(worker, 'exit');
  }
});

test('a background SQLite writer runs SCHED_IDLE; its normal-priority catch-up thread starts only when the log falls behind, ends when idle, and both extend one chain', { skip: LINUX ? false : 'Linux scheduling classes' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-writer-priority-'));
  const path = join(dir, 'gw.db');
  const store = await openStore({ url: path });
  const secret = 'writer-priority-secret-0123456789';
  const audit = { checkpointEvery: 50, secret };
  const background = new SqliteWorkerSink(path, { audit, priority: 'background' });
  const catchUp = new SqliteWorkerSink(path, { audit, priority: 'normal', lazy: true, idleEndMs: 200 });
  try {
    const before = idleThreads();
    let caughtUp = 0;
    const writer = new RequestWriter(background, { batchSize: 40, flushIntervalMs: 3_600_000, catchUp, catchUpAbove: 100, onCatchUp: (rows) => (caughtUp += rows) });
    for (let i = 0; i < 80; i++) writer.enqueue(request(`calm-${i}`));
    assert.equal(await writer.flush(), true);
    assert.equal(catchUp.started, false, 'no backlog, no second thread');
    assert.equal(idleThreads().length, before.length + 1, 'the background writer lowered its own thread');
    // 300 rows at once: the first batches find more than 100 waiting and go to the catch-up thread.
    for (let i = 0; i < 300; i++) writer.enqueue(request(`burst-${i}`));
    await waitFor(() => catchUp.started, 10_000, 'the catch-up thread');
    assert.equal(await writer.flush(), true);
    // Not `catchUp.started`: the last batches go to the background writer, and on a loaded
    // machine the catch-up thread may have been idle for idleEndMs, and ended, before they are in.
    assert.ok(caughtUp > 0, 'the catch-up thread took batches');
    assert.equal(idleThreads().length, before.length + 1, 'the catch-up thread runs at normal priority');
    // Idle for idleEndMs, the catch-up thread ends; the next batch for it starts another.
    await waitFor(() => !catchUp.started, 5_000, 'the idle catch-up thread to end');
    for (let i = 0; i < 300; i++) writer.enqueue(request(`after-${i}`));
    await waitFor(() => catchUp.started, 10_000, 'a new catch-up thread');
    assert.equal(await writer.flush(), true);
    const report = await verifyAuditChain(new AuditStore(store.db, store.kind), secret);
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.entries, 680);
  } finally {
    await Promise.all([background.close(), catchUp.close()]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
