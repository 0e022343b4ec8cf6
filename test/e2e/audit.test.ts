import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { adminCall, startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import { spawnCli } from '../helpers/cli.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { parseConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { AuditStore } from '../../src/audit/audit-store.js';
import { canonicalJson, entryHash } from '../../src/audit/canonical.js';
import type { AuditEntry } from '../../src/audit/types.js';

/** The audit log and the body log through a running gateway, and the `stellwerk audit` CLI. */

const MASTER = 'master-key-audit-test';
const SECRET = 'audit-hmac-secret-for-the-e2e-test';
const EMAIL = 'k.wolff@example.de';

let emulator: Emulator;
let running: RunningGateway;
let yaml: string;

before(async () => {
  emulator = await startEmulator();
  yaml = `
auth: { master_key: ${MASTER} }
audit: { hmac_secret: ${SECRET}, checkpoint_every: 5 }
models:
  - name: chat
    deployments: [{ provider: openai-compatible, name: eu-emu, region: eu-west, base_url: ${emulator.url}, model: emu-model }]
`;
  running = await startGateway(yaml, {});
});
after(async () => {
  await running.close();
  await emulator.close();
});

const admin = (method: string, path: string, body?: unknown, key = MASTER) => adminCall(running, key, method, path, body);

type EntryView = AuditEntry & { time: string };

async function auditPage(query = '', key = MASTER): Promise<{ data: EntryView[]; next_cursor: string | null }> {
  const { status, json } = await admin('GET', `/admin/audit${query}`, undefined, key);
  assert.equal(status, 200, JSON.stringify(json));
  return json as unknown as { data: EntryView[]; next_cursor: string | null };
}

/** Writes the queued audit entries and bodies now, instead of waiting for the batch interval. */
async function flushLogs(): Promise<void> {
  const governance = running.gateway.runtime.governance!;
  assert.equal(await governance.audit!.flush(WRITER_WAIT_MS), true);
  assert.equal(await governance.bodies.flush(5_000), true);
}

async function createTeam(body: Record<string, unknown>): Promise<string> {
  const created = await admin('POST', '/admin/teams', body);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json.id as string;
}

async function createKey(body: Record<string, unknown>, key = MASTER): Promise<{ id: string; key: string }> {
  const created = await admin('POST', '/admin/keys', body, key);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return { id: created.json.id as string, key: created.json.key as string };
}

/** A chat through the gateway with the openai SDK; resolves to the request id the gateway gave it. */
async function chat(key: string, content: string, stream = false): Promise<{ requestId: string; text: string }> {
  const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 });
  if (!stream) {
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content }] }).withResponse();
    return { requestId: response.headers.get('x-request-id')!, text: data.choices[0]!.message.content ?? '' };
  }
  const { data, response } = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content }] }).withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
  return { requestId: response.headers.get('x-request-id')!, text };
}

async function requestEntry(requestId: string): Promise<EntryView> {
  await flushLogs();
  const entry = (await auditPage('?kind=request&limit=1000')).data.find((item) => item.subject === requestId);
  assert.ok(entry !== undefined, `no audit entry for request ${requestId}`);
  return entry;
}

describe('the audit log through the gateway', () => {
  test('admin actions are recorded with actor, subject and changed fields, never secrets or hashes', async () => {
    const team = await createTeam({ name: 'audited', data_policy: { residency: ['eu-west'] } });
    const created = await admin('POST', '/admin/keys', { name: 'svc', team, rpm: 5 });
    const id = created.json.id as string;
    const secret = created.json.key as string;
    await admin('PATCH', `/admin/keys/${id}`, { rpm: 10 });
    const rotated = await admin('POST', `/admin/keys/${id}/rotate`);
    await admin('DELETE', `/admin/keys/${id}`);

    const entries = (await auditPage(`?kind=key&limit=50`)).data.filter((entry) => entry.subject === id);
    assert.deepEqual(entries.map((entry) => entry.kind), ['key.revoked', 'key.rotated', 'key.updated', 'key.created'], 'newest first');
    for (const entry of entries) {
      assert.equal(entry.actor, 'master');
      assert.equal(entry.team_id, team);
    }
    assert.deepEqual(entries[3]!.data, { name: 'svc', team, rpm: 5 });
    assert.deepEqual(entries[2]!.data, { rpm: 10 });
    const everything = JSON.stringify(await auditPage('?limit=1000'));
    assert.ok(!everything.includes(secret) && !everything.includes(rotated.json.key as string), 'no key secret in the log');
    const teamEntry = (await auditPage('?kind=team.created')).data.find((entry) => entry.subject === team);
    assert.deepEqual(teamEntry?.data, { name: 'audited', data_policy: { residency: ['eu-west'] } });
  });

  test('a request is recorded with its metadata and PII types, never the text', async () => {
    const key = await createKey({ name: 'pii', data_policy: { privacy: { mode: 'detect' } } });
    const { requestId } = await chat(key.key, `Please write to ${EMAIL} today.`);
    const entry = await requestEntry(requestId);
    assert.equal(entry.actor, null);
    const { request_id, key_id, alias, deployment, region, status, pii_types, prompt_tokens, completion_tokens } = entry.data as Record<string, unknown>;
    assert.deepEqual({ request_id, key_id, alias, deployment, region, status, pii_types }, {
      request_id: requestId,
      key_id: key.id,
      alias: 'chat',
      deployment: 'eu-emu',
      region: 'eu-west',
      status: 200,
      pii_types: { email: 1 },
    });
    assert.ok((prompt_tokens as number) > 0 && (completion_tokens as number) > 0);
    assert.ok(!JSON.stringify(entry).includes(EMAIL));
  });

  test('a config reload is recorded with the names of what changed', async () => {
    const next = parseConfig(yaml.replace('checkpoint_every: 5', 'checkpoint_every: 6'), 'reload.yaml', {});
    running.gateway.reload({ ...next, governance: running.gateway.runtime.config.governance });
    await flushLogs();
    const entry = (await auditPage('?kind=config.reloaded')).data[0];
    assert.equal(entry?.actor, 'system');
    assert.deepEqual(entry?.data, { sections: ['audit'], models_added: [], models_removed: [] });
    assert.ok(!JSON.stringify(entry).includes(SECRET));
  });

  test('a team admin key sees only its own team’s entries', async () => {
    const mine = await createTeam({ name: 'mine' });
    const theirs = await createTeam({ name: 'theirs' });
    const adminKey = await createKey({ team: mine, role: 'admin' });
    const member = await createKey({ team: mine }, adminKey.key);
    const stranger = await createKey({ team: theirs });
    await chat(member.key, 'hello from my team');
    await chat(stranger.key, 'hello from theirs');
    await flushLogs();
    const seen = (await auditPage('?limit=1000', adminKey.key)).data;
    assert.ok(seen.length >= 3);
    assert.ok(seen.every((entry) => entry.team_id === mine), JSON.stringify(seen.map((entry) => entry.team_id)));
    assert.ok(seen.some((entry) => entry.kind === 'request' && (entry.data as { key_id?: string }).key_id === member.id));
    assert.ok(seen.some((entry) => entry.kind === 'key.created' && entry.subject === member.id && entry.actor === `key:${adminKey.id}`));
    const all = (await auditPage('?limit=1000')).data;
    assert.ok(all.some((entry) => entry.team_id === theirs), 'the master key sees every team');
    const plain = await admin('GET', '/admin/audit', undefined, member.key);
    assert.equal(plain.status, 403);
  });

  test('pages follow next_cursor, newest first, without overlap; bad queries get 400', async () => {
    const first = await auditPage('?limit=3');
    assert.equal(first.data.length, 3);
    const second = await auditPage(`?limit=3&cursor=${first.next_cursor!}`);
    assert.ok(second.data[0]!.seq < first.data[2]!.seq);
    assert.ok(first.data[0]!.seq > first.data[1]!.seq);
    const bad = await admin('GET', '/admin/audit?limit=0');
    assert.equal(bad.status, 400);
    assert.equal((bad.json.error as { param: string }).param, 'limit');
    assert.equal((await admin('GET', '/admin/audit?cursor=abc')).status, 400);
  });

  test('verify reports ok with the signed checkpoints', async () => {
    await flushLogs();
    const { status, json } = await admin('GET', '/admin/audit/verify');
    assert.equal(status, 200);
    assert.equal(json.status, 'ok', JSON.stringify(json));
    assert.equal(json.broken_at, null);
    assert.ok((json.entries as number) >= 5);
    assert.equal(json.signatures, 'verified');
    assert.equal((json.last_checkpoint as { signed: boolean }).signed, true);
  });
});

describe('request bodies under log_bodies', () => {
  test('kept with personal data redacted, whatever the key’s privacy mode, for whole and streamed answers', async () => {
    const team = await createTeam({ name: 'bodies', data_policy: { log_bodies: true } });
    // The key pseudonymizes: the client gets its e-mail back; the stored bodies must not hold it.
    const key = await createKey({ team, data_policy: { privacy: { mode: 'pseudonymize' } } });
    for (const stream of [false, true]) {
      const { requestId, text } = await chat(key.key, `Reply to ${EMAIL} please (${stream ? 'stream' : 'whole'}).`, stream);
      assert.ok(text.includes(EMAIL), 'the client sees its own data restored');
      const entry = await requestEntry(requestId);
      const body = await admin('GET', `/admin/requests/${entry.id}/body`);
      assert.equal(body.status, 200, JSON.stringify(body.json));
      const stored = JSON.stringify(body.json);
      assert.ok(!stored.includes(EMAIL), stored);
      assert.equal(body.json.redacted, true);
      const messages = (body.json.prompt as { messages: { content: string }[] }).messages;
      assert.match(messages[0]!.content, /Reply to \[EMAIL\] please/);
      assert.match(body.json.completion as string, /\[EMAIL\]/);
    }
  });

  test('a key’s log_bodies: false overrides its team’s true; nothing is kept without the policy', async () => {
    const team = await createTeam({ name: 'bodies-off', data_policy: { log_bodies: true } });
    const optedOut = await createKey({ team, data_policy: { log_bodies: false } });
    const plain = await createKey({});
    const store = running.gateway.runtime.governance!.store as unknown as { db: import('kysely').Kysely<import('../../src/store/schema.js').StoreSchema> };
    const count = async () => Number((await store.db.selectFrom('request_bodies').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    for (const key of [optedOut, plain]) {
      const { requestId } = await chat(key.key, `Mail ${EMAIL}`);
      const entry = await requestEntry(requestId);
      const body = await admin('GET', `/admin/requests/${entry.id}/body`);
      assert.equal(body.status, 404);
      assert.equal((body.json.error as { code: string }).code, 'not_found');
    }
    assert.equal(await count(), before);
  });

  test('another team’s admin key gets 404 for a kept body', async () => {
    const team = await createTeam({ name: 'kept', data_policy: { log_bodies: true } });
    const other = await createTeam({ name: 'other' });
    const key = await createKey({ team });
    const otherAdmin = await createKey({ team: other, role: 'admin' });
    const ownAdmin = await createKey({ team, role: 'admin' });
    const entry = await requestEntry((await chat(key.key, 'just a question')).requestId);
    assert.equal((await admin('GET', `/admin/requests/${entry.id}/body`, undefined, otherAdmin.key)).status, 404);
    assert.equal((await admin('GET', `/admin/requests/${entry.id}/body`, undefined, ownAdmin.key)).status, 200);
  });
});

describe('stellwerk audit', () => {
  let dir: string;
  let dbPath: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stellwerk-audit-'));
    dbPath = join(dir, 'audit.db');
    const store = await openStore({ url: dbPath });
    const audit = new AuditStore(store.db, store.kind);
    for (let n = 1; n <= 12; n++) {
      await audit.append([{ id: `e${n}`, ts: Date.parse('2030-01-01T00:00:00Z') + n * 60_000, kind: 'team.created', actor: 'master', team_id: `t${n}`, subject: `t${n}`, data: { name: `team ${n}` } }], {
        checkpointEvery: 4,
        secret: SECRET,
      });
    }
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('verify prints a summary and exits 0 on an intact chain, checking signatures with the secret', async () => {
    const cli = spawnCli(['audit', 'verify', '--sqlite', dbPath], { STELLWERK_AUDIT_HMAC_SECRET: SECRET });
    assert.equal(await cli.exited(), 0, cli.stderr.join(''));
    const out = cli.stdout.join('\n');
    assert.match(out, /entries:\s+12/);
    assert.match(out, /checkpoints:\s+3, last at seq 12/);
    assert.match(out, /signatures:\s+checked with the secret/);
    assert.match(out, /status:\s+ok/);
    assert.ok(!out.includes(SECRET));
  });

  test('export writes the entries of the range as JSON Lines whose hashes re-compute', async () => {
    const out = join(dir, 'export.jsonl');
    const cli = spawnCli(['audit', 'export', '--sqlite', dbPath, '--from', '2030-01-01T00:03:00Z', '--to', '2030-01-01T00:07:00Z', '--out', out]);
    assert.equal(await cli.exited(), 0, cli.stderr.join(''));
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditEntry & { time: string });
    assert.deepEqual(lines.map((line) => line.seq), [3, 4, 5, 6]);
    for (const line of lines) {
      const { hash, time: _time, ...rest } = line;
      assert.equal(entryHash(rest), hash);
    }
    assert.equal(lines[1]!.prev_hash, lines[0]!.hash);
    const usage = spawnCli(['audit', 'export', '--sqlite', dbPath, '--from', 'yesterday', '--to', '2030-01-01T00:07:00Z']);
    assert.equal(await usage.exited(), 2);
    assert.match(usage.stderr.join(''), /--from "yesterday" is not an ISO 8601 time/);
  });

  test('teams create --data-policy stores the team’s policy, and the action is in the audit log verify reads', async () => {
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `governance: { sqlite_path: ${join(dir, 'cli.db')}, key_pepper: pepper-for-the-cli-test }\n` +
        `audit: { hmac_secret: ${SECRET} }\n` +
        'models:\n  - name: demo\n    deployments: [{ provider: simulator }]\n',
    );
    const created = spawnCli(['teams', 'create', '--store', '--config', config, '--name', 'legal', '--data-policy', '{"log_bodies":true,"residency":["eu"]}']);
    assert.equal(await created.exited(), 0, created.stderr.join(''));
    const team = JSON.parse(created.stdout.join('\n')) as { id: string; data_policy: unknown };
    assert.deepEqual(team.data_policy, { log_bodies: true, residency: ['eu'] });
    const verify = spawnCli(['audit', 'verify', '--config', config]);
    assert.equal(await verify.exited(), 0, verify.stderr.join(''));
    assert.match(verify.stdout.join('\n'), /entries:\s+1\n/);
    const bad = spawnCli(['teams', 'create', '--store', '--config', config, '--name', 'x', '--data-policy', '{log_bodies']);
    assert.equal(await bad.exited(), 2);
    assert.match(bad.stderr.join(''), /--data-policy must be a JSON object/);
  });

  test('verify names the first broken entry and exits 1 after a row was changed', async () => {
    const copy = join(dir, 'tampered.db');
    writeFileSync(copy, readFileSync(dbPath));
    const store = await openStore({ url: copy, migrate: false });
    await store.db.updateTable('audit_entries').set({ data: canonicalJson({ name: 'someone else' }) }).where('seq', '=', 9).execute();
    await store.close();
    const cli = spawnCli(['audit', 'verify', '--sqlite', copy]);
    assert.equal(await cli.exited(), 1);
    assert.match(cli.stderr.join(''), /BROKEN at seq 9: the hash does not match/);
    assert.match(cli.stdout.join('\n'), /signatures:\s+not checked: no secret given/);
  });
});
