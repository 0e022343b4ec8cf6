import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningUrl, spawnCli } from '../helpers/cli.js';

const MASTER = 'cli-admin-master-key-1';

function configIn(dir: string): string {
  const path = join(dir, 'gateway.yaml');
  writeFileSync(
    path,
    `auth: { master_key: ${MASTER} }\ngovernance: { sqlite_path: ${join(dir, 'stellwerk.db')} }\nmodels:\n  - name: demo\n    deployments: [{ provider: simulator, ttft_ms: 0, tokens_per_second: 0 }]\n`,
  );
  return path;
}

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const cli = spawnCli(args, env);
  const code = await cli.exited();
  const out = cli.stdout.join('\n');
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out) as Record<string, unknown>;
  } catch {
    // not JSON (help, errors)
  }
  return { code, out, json, err: cli.stderr.join('') };
}

test('keys and teams through a running gateway', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-cli-admin-'));
  const gateway = spawnCli(['start', '--config', configIn(dir), '--port', '0']);
  try {
    const url = await listeningUrl(gateway);
    const env = { STELLWERK_URL: url, STELLWERK_MASTER_KEY: MASTER };
    const team = await run(['teams', 'create', '--name', 'search', '--budget', '50', '--budget-period', 'month'], env);
    assert.equal(team.code, 0, team.out + team.err);
    const created = await run(['keys', 'create', '--name', 'api', '--team', team.json.id as string, '--rpm', '5', '--models', 'demo'], env);
    assert.equal(created.code, 0, created.out + created.err);
    assert.match(created.json.key as string, /^sk-stw-/);
    assert.equal(created.json.rpm, 5);
    assert.deepEqual(created.json.models, ['demo']);
    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.json.key as string}` },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(answer.status, 200);
    const listed = await run(['keys', 'list'], env);
    assert.ok((listed.json.data as { id: string }[]).some((key) => key.id === created.json.id));
    const rotated = await run(['keys', 'rotate', created.json.id as string, '--grace-ms', '0'], env);
    assert.notEqual(rotated.json.key, created.json.key);
    const revoked = await run(['keys', 'revoke', created.json.id as string], env);
    assert.equal(revoked.json.state, 'revoked');
    const usage = await run(['usage', '--group-by', 'team'], env);
    assert.equal(usage.code, 0);
    const missing = await run(['keys', 'get', 'key_nope'], env);
    assert.equal(missing.code, 1, 'an API error exits 1');
    assert.equal((missing.json.error as { code: string }).code, 'not_found');
  } finally {
    gateway.child.kill('SIGTERM');
    await gateway.exited();
  }
});

test('--store creates keys before the gateway runs; the gateway then accepts them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-cli-store-'));
  const config = configIn(dir);
  const created = await run(['keys', 'create', '--store', '--config', config, '--name', 'first']);
  assert.equal(created.code, 0, created.out + created.err);
  const gateway = spawnCli(['start', '--config', config, '--port', '0']);
  try {
    const url = await listeningUrl(gateway);
    const answer = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${created.json.key as string}` } });
    assert.equal(answer.status, 200);
  } finally {
    gateway.child.kill('SIGTERM');
    await gateway.exited();
  }
});

test('usage errors: no key, unknown action', async () => {
  const noKey = await run(['keys', 'list'], { STELLWERK_MASTER_KEY: undefined, STELLWERK_URL: 'http://127.0.0.1:9' });
  assert.equal(noKey.code, 2);
  assert.match(noKey.err, /--key or STELLWERK_MASTER_KEY/);
  const unknown = await run(['keys', 'frob'], { STELLWERK_MASTER_KEY: 'x' });
  assert.equal(unknown.code, 2);
  const help = await run(['keys', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /stellwerk keys create/);
});
