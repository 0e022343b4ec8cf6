import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'stellwerk-cli-'));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

test('package.json names the CLI as bin.stellwerk', () => {
  assert.equal(pkg.bin.stellwerk, 'dist/cli/main.js');
});

test('--help lists the commands; --version prints the version', async () => {
  const help = spawnCli(['--help']);
  assert.equal(await help.exited(), 0);
  const text = help.stdout.join('\n');
  for (const word of ['start', 'check', '--config', '--port', '--host', '--watch', '--insecure']) assert.ok(text.includes(word), word);
  const version = spawnCli(['--version']);
  assert.equal(await version.exited(), 0);
  assert.equal(version.stdout.join('').trim(), `stellwerk ${pkg.version}`);
});

test('check accepts a valid config', async () => {
  const path = join(dir, 'good.yaml');
  writeFileSync(path, 'models:\n  - name: demo\n    deployments: [{ provider: simulator }]\n');
  const cli = spawnCli(['check', '--config', path]);
  assert.equal(await cli.exited(), 0);
  assert.match(cli.stdout.join('\n'), /ok — 1 model\(s\), 1 deployment\(s\)/);
});

test('check refuses an invalid config naming file, line and field', async () => {
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'models:\n  - name: demo\n    deployments:\n      - provider: openai-compatible\n        model: m\n        base_url: not a url\n');
  const cli = spawnCli(['check', '--config', path]);
  assert.equal(await cli.exited(), 1);
  assert.match(cli.stderr.join(''), new RegExp(`${path.replace(/[.]/g, '\\.')}:6:19: models\\[0\\]\\.deployments\\[0\\]\\.base_url: `));
});

test('check names a missing environment variable', async () => {
  const path = join(dir, 'env.yaml');
  writeFileSync(path, 'auth:\n  master_key: ${STELLWERK_TEST_UNSET_KEY}\nmodels:\n  - name: demo\n    deployments: [{ provider: simulator }]\n');
  const cli = spawnCli(['check', '--config', path]);
  assert.equal(await cli.exited(), 1);
  assert.match(cli.stderr.join(''), /env\.yaml:2:15: auth\.master_key: environment variable STELLWERK_TEST_UNSET_KEY is not set/);
});

test('check warns about a deployment that cannot be used', async () => {
  const path = join(dir, 'openai.yaml');
  writeFileSync(path, 'models:\n  - name: gpt\n    deployments: [{ provider: openai, model: gpt-4o-mini }]\n');
  const cli = spawnCli(['check', '--config', path], { OPENAI_API_KEY: undefined });
  assert.equal(await cli.exited(), 0);
  assert.match(cli.stdout.join('\n'), /warning: deployment gpt\/0 of model gpt is not used: no API key/);
});

test('an unknown command or option is a usage error', async () => {
  assert.equal(await spawnCli(['frobnicate']).exited(), 2);
  assert.equal(await spawnCli(['start', '--nope']).exited(), 2);
  assert.equal(await spawnCli(['check']).exited(), 2);
});

test('start refuses a non-loopback address without a master key', async () => {
  const cli = spawnCli(['start', '--host', '0.0.0.0', '--port', '0']);
  assert.equal(await cli.exited(), 2);
  assert.match(cli.stderr.join(''), /refusing to listen on 0\.0\.0\.0 without auth\.master_key/);
});

test('start with a missing config file fails clearly', async () => {
  const cli = spawnCli(['start', '--config', join(dir, 'absent.yaml')]);
  assert.equal(await cli.exited(), 1);
  assert.match(cli.stderr.join(''), /absent\.yaml: file not found/);
});
