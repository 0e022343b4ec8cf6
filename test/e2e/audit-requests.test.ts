import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { sql } from 'kysely';
import { startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { openStore } from '../../src/store/open-store.js';
import { createTestDatabase, type TestDatabase } from '../../src/store/testing/databases.js';
import { AuditStore } from '../../src/audit/audit-store.js';
import { verifyAuditChain } from '../../src/audit/verify.js';

/**
 * Requests' audit entries travel with their request rows: on a SQLite file the writer thread
 * appends them in the rows' transaction; on Postgres the request writer's transaction does,
 * under the append lock, so that two gateways on one database keep one chain.
 */

const MASTER = 'master-key-audit-requests';
const SECRET = 'audit-requests-hmac-secret-0123456789';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

function models(): string {
  return `models:
  - name: chat
    deployments: [{ provider: openai-compatible, name: eu-emu, region: eu-west, base_url: ${emulator.url}, model: emu-model }]
`;
}

async function createKey(running: RunningGateway, name: string): Promise<{ id: string; key: string }> {
  const response = await fetch(`${running.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 201);
  return (await response.json()) as { id: string; key: string };
}

/** A chat with the openai SDK; resolves to the x-request-id the gateway answered with. */
async function chat(running: RunningGateway, key: string, n: number): Promise<string> {
  const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 });
  const { response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `question ${n}` }] }).withResponse();
  return response.headers.get('x-request-id')!;
}

describe('on a SQLite file, the writer thread appends each request’s entry', () => {
  let dir: string;
  let path: string;
  let running: RunningGateway;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stellwerk-audit-requests-'));
    path = join(dir, 'gw.db');
    running = await startGateway(`auth: { master_key: ${MASTER} }
governance: { sqlite_path: ${path} }
audit: { hmac_secret: ${SECRET}, checkpoint_every: 10 }
${models()}`);
  });
  after(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('after N requests through the gateway every row has its entry and the chain verifies with signed checkpoints', async () => {
    const governance = running.gateway.runtime.governance!;
    const key = await createKey(running, 'sqlite-file');
    const requestIds = await Promise.all(Array.from({ length: 30 }, (_, n) => chat(running, key.key, n)));
    assert.equal(await governance.audit!.flush(WRITER_WAIT_MS), true);

    const raw = new Database(path, { readonly: true });
    try {
      const entries = raw.prepare(`SELECT e.subject, e.id, e.team_id, r.key_id FROM audit_entries e JOIN requests r ON r.id = e.id WHERE e.kind = 'request'`).all() as {
        subject: string;
        key_id: string;
      }[];
      assert.deepEqual(entries.map((entry) => entry.subject).sort(), [...requestIds].sort(), 'one entry per request, joined to its row by id');
      assert.ok(entries.every((entry) => entry.key_id === key.id));
      const rows = raw.prepare('SELECT count(*) AS n FROM requests').get() as { n: number };
      assert.equal(rows.n, 30);
    } finally {
      raw.close();
    }
    const report = await verifyAuditChain(governance.audit!.store, SECRET);
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.entries, 31, 'the key’s creation and the 30 requests');
    assert.equal(report.checkpoints.signatures, 'verified');
    assert.ok(report.checkpoints.count >= 1);
  });
});

describe('on Postgres, two gateways writing requests and admin actions keep one chain', () => {
  let database: TestDatabase;
  const gateways: RunningGateway[] = [];
  before(async () => {
    database = await createTestDatabase();
    const yaml = `auth: { master_key: ${MASTER} }
governance: { database_url: ${database.url}, key_pepper: audit-requests-pepper-0123456789 }
audit: { hmac_secret: ${SECRET}, checkpoint_every: 7 }
${models()}`;
    // One after the other: the first one migrates the new database.
    gateways.push(await startGateway(yaml, {}));
    gateways.push(await startGateway(yaml, {}));
  });
  after(async () => {
    await Promise.all(gateways.map((running) => running.close()));
    await database.drop();
  });

  test('requests through both, with admin actions in between, form one gapless, unforked, verified chain', async () => {
    const [first, second] = gateways as [RunningGateway, RunningGateway];
    const keys = [await createKey(first, 'first'), await createKey(second, 'second')];
    // Each gateway knows the other's key once it has reloaded its directory.
    await Promise.all(gateways.map((running) => running.gateway.runtime.governance!.directory.load()));
    const calls: Promise<string>[] = [];
    for (let n = 0; n < 40; n++) {
      calls.push(chat(gateways[n % 2]!, keys[(n >> 1) % 2]!.key, n));
      if (n % 10 === 0) calls.push(createKey(gateways[(n / 10) % 2]!, `during-${n}`).then((created) => created.id));
    }
    await Promise.all(calls);
    for (const running of gateways) assert.equal(await running.gateway.runtime.governance!.audit!.flush(WRITER_WAIT_MS), true);

    const store = await openStore({ url: database.url, migrate: false });
    try {
      const audit = new AuditStore(store.db, store.kind);
      const report = await verifyAuditChain(audit, SECRET);
      assert.equal(report.ok, true, JSON.stringify(report.broken));
      assert.equal(report.entries, 2 + 4 + 40);
      assert.equal(report.checkpoints.signatures, 'verified');
      const { rows } = await sql<{ requests: unknown; entries: unknown; forks: unknown }>`select
          (select count(*) from requests) as requests,
          (select count(*) from audit_entries e join requests r on r.id = e.id where e.kind = 'request') as entries,
          (select count(*) - count(distinct prev_hash) from audit_entries) as forks`.execute(store.db);
      const found = rows[0]!;
      assert.deepEqual({ requests: Number(found.requests), entries: Number(found.entries), forks: Number(found.forks) }, { requests: 40, entries: 40, forks: 0 });
    } finally {
      await store.close();
    }
  });
});
