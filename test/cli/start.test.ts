import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningUrl, spawnCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'stellwerk-start-'));

function chat(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

test('without a config, start serves "demo" from the simulator (also as the curl example sends it)', async () => {
  const cli = spawnCli(['start', '--port', '0']);
  try {
    const url = await listeningUrl(cli);
    // curl -d sends application/x-www-form-urlencoded; the body is JSON all the same.
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"model":"demo","messages":[{"role":"user","content":"hi"}]}',
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.ok(body.choices[0]!.message.content.length > 0);
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'simulator');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
  } finally {
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited(), 0);
  }
});

test('STELLWERK_PORT and STELLWERK_CONFIG are read from the environment', async () => {
  const path = join(dir, 'env-config.yaml');
  writeFileSync(path, 'models:\n  - name: from-env\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
  const cli = spawnCli(['start'], { STELLWERK_CONFIG: path, STELLWERK_PORT: '0' });
  try {
    const url = await listeningUrl(cli);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((model) => model.id), ['from-env']);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited();
  }
});

test('SIGTERM lets an in-flight stream finish, refuses new work, and exits 0', async () => {
  const path = join(dir, 'slow.yaml');
  writeFileSync(path, 'models:\n  - name: slow\n    deployments: [{ provider: simulator, ttft_ms: 0, tokens_per_second: 40, output_tokens: 20 }]\n');
  const cli = spawnCli(['start', '--config', path, '--port', '0']);
  const url = await listeningUrl(cli);
  const response = await chat(url, { model: 'slow', stream: true });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  cli.child.kill('SIGTERM');
  await cli.waitForLog((line) => line.msg === 'shutting down: finishing in-flight requests');
  await assert.rejects(chat(url, { model: 'slow' }), 'a new connection is refused while draining');
  for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value);
  assert.ok(text.endsWith('data: [DONE]\n\n'), 'the stream ran to its end');
  const words = text
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map((event) => (JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '');
  assert.equal(words.filter((word) => word !== '').length, 20);
  assert.equal(await cli.exited(), 0);
});

test('SIGHUP reloads the config; an invalid config leaves the running one in place', async () => {
  const path = join(dir, 'reload.yaml');
  writeFileSync(path, 'models:\n  - name: first\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
  const cli = spawnCli(['start', '--config', path, '--port', '0']);
  try {
    const url = await listeningUrl(cli);
    writeFileSync(path, 'models:\n  - name: second\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
    cli.child.kill('SIGHUP');
    await cli.waitForLog((line) => line.msg === 'config reloaded');
    assert.equal((await chat(url, { model: 'second' })).status, 200);
    assert.equal((await chat(url, { model: 'first' })).status, 404);

    writeFileSync(path, 'models:\n  - name: third\n    deployments: [{ provider: nope }]\n');
    cli.child.kill('SIGHUP');
    const refused = await cli.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('config not reloaded'));
    assert.match(refused.msg as string, /reload\.yaml:3:/);
    assert.equal((await chat(url, { model: 'second' })).status, 200);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited();
  }
});

test('--watch reloads when the file changes', async () => {
  const path = join(dir, 'watched.yaml');
  writeFileSync(path, 'models:\n  - name: before\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
  const cli = spawnCli(['start', '--config', path, '--port', '0', '--watch']);
  try {
    const url = await listeningUrl(cli);
    writeFileSync(path, 'models:\n  - name: after\n    deployments: [{ provider: simulator, ttft_ms: 0 }]\n');
    await cli.waitForLog((line) => line.msg === 'config reloaded');
    assert.equal((await chat(url, { model: 'after' })).status, 200);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited();
  }
});

test('with --insecure a non-loopback bind is allowed; with a master key it needs no flag and demands the key', async () => {
  const insecure = spawnCli(['start', '--host', '0.0.0.0', '--port', '0', '--insecure']);
  await listeningUrl(insecure);
  insecure.child.kill('SIGTERM');
  assert.equal(await insecure.exited(), 0);

  const secured = spawnCli(['start', '--host', '0.0.0.0', '--port', '0'], { STELLWERK_MASTER_KEY: 'master-key-for-test' });
  try {
    const url = await listeningUrl(secured);
    assert.equal((await chat(url, { model: 'demo' })).status, 401);
    assert.equal((await chat(url, { model: 'demo' }, { authorization: 'Bearer master-key-for-test' })).status, 200);
  } finally {
    secured.child.kill('SIGTERM');
    await secured.exited();
  }
});
