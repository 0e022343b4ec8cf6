import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { anthropicApiKey, anthropicDeploymentSchema } from './config.js';
import { ANTHROPIC_CHAT_FIELDS } from './fields.js';
import { anthropicProvider } from './index.js';
import { anthropicHeaders } from './api.js';

function parse(extra: Record<string, unknown>) {
  return anthropicDeploymentSchema.safeParse({ provider: 'anthropic', model: 'claude-test', ...extra });
}

test('config: defaults, and refusals that say what is wrong', () => {
  const config = anthropicDeploymentSchema.parse({ provider: 'anthropic', model: 'claude-test' });
  assert.equal(config.base_url, 'https://api.anthropic.com');
  assert.equal(config.max_tokens, 4096);
  assert.equal(config.max_connections, 128);
  const v1 = parse({ base_url: 'https://api.anthropic.com/v1' });
  assert.ok(!v1.success && /leave out the trailing \/v1/.test(v1.error.issues[0]!.message));
  const noModel = anthropicDeploymentSchema.safeParse({ provider: 'anthropic', model: '' });
  assert.ok(!noModel.success && /Anthropic model id/.test(noModel.error.issues[0]!.message));
  assert.ok(!parse({ temperature: 0.5 }).success, 'unknown keys are errors');
  assert.ok(!parse({ max_tokens: 0 }).success);
  assert.ok(!parse({ anthropic_beta: ['has space'] }).success);
});

test('the key: api_key, else ANTHROPIC_API_KEY; without one the deployment is unusable', () => {
  const config = anthropicDeploymentSchema.parse({ provider: 'anthropic', model: 'claude-test' });
  assert.equal(anthropicApiKey(config, {}), '');
  assert.equal(anthropicApiKey(config, { ANTHROPIC_API_KEY: 'from-env' }), 'from-env');
  assert.equal(anthropicApiKey({ ...config, api_key: 'own' }, { ANTHROPIC_API_KEY: 'from-env' }), 'own');
  const saved = process.env.ANTHROPIC_API_KEY;
  try {
    delete process.env.ANTHROPIC_API_KEY;
    assert.equal(anthropicProvider.unusableReason(config), 'no API key: set api_key or ANTHROPIC_API_KEY');
    process.env.ANTHROPIC_API_KEY = 'from-env';
    assert.equal(anthropicProvider.unusableReason(config), null);
  } finally {
    if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = saved;
  }
});

test('headers: the key as x-api-key, the API version, betas joined', () => {
  assert.deepEqual(anthropicHeaders({ apiKey: 'k', betas: [] }), { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'k' });
  assert.equal(anthropicHeaders({ apiKey: 'k', betas: ['a', 'b'] })['anthropic-beta'], 'a,b');
});

test('docs/providers/anthropic.md lists every field with the handling fields.ts gives it', () => {
  const docs = readFileSync(new URL('../../../docs/providers/anthropic.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of docs.matchAll(/^\| `([a-z_]+)` \| (pass|mapped|ignored|rejected) \|/gm)) rows.set(match[1]!, match[2]!);
  assert.deepEqual(Object.fromEntries([...rows].sort()), Object.fromEntries(Object.entries(ANTHROPIC_CHAT_FIELDS).sort()));
});
