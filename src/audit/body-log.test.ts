import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/open-store.js';
import { startRetention } from '../store/retention.js';
import type { RequestRow } from '../store/types.js';
import { BodyLog, redactBodies } from './body-log.js';

const DAY_MS = 86_400_000;

function row(id: string, ts: number): RequestRow {
  return {
    id,
    ts,
    key_id: 'k',
    team_id: 't',
    alias: 'chat',
    deployment: 'd',
    endpoint: 'chat',
    status: 200,
    stream: false,
    prompt_tokens: 1,
    completion_tokens: 1,
    cost_nanos: 0,
    latency_ms: 1,
    ttft_ms: null,
    error_code: null,
    region: 'eu-west',
    pii_types: { email: 1 },
  };
}

test('bodies are redacted in redact mode: every text of the prompt and the completion', () => {
  const prompt = { model: 'chat', messages: [{ role: 'user', content: [{ type: 'text', text: 'IBAN DE89 3704 0044 0532 0130 00, mail a.b@example.org' }] }] };
  const redacted = redactBodies({ requestId: 'r', ts: 0, teamId: null, prompt, pseudonyms: null, completion: 'Noted: a.b@example.org' });
  assert.equal(JSON.stringify(redacted.prompt).includes('example.org'), false);
  assert.match(JSON.stringify(redacted.prompt), /IBAN \[IBAN\], mail \[EMAIL\]/);
  assert.equal(redacted.completion, 'Noted: [EMAIL]');
  assert.equal(prompt.messages[0]!.content[0]!.text.includes('example.org'), true, 'the request’s own body is left as it was');
});

test('retention deletes kept bodies with their request rows, and keeps the recent ones', async () => {
  const store = await openStore({ url: ':memory:' });
  const bodies = new BodyLog(store.db);
  try {
    const now = Date.now();
    await store.insertRequests([row('old', now - 40 * DAY_MS), row('new', now - DAY_MS)]);
    for (const id of ['old', 'new']) {
      bodies.enqueue({ requestId: id, ts: id === 'old' ? now - 40 * DAY_MS : now - DAY_MS, teamId: 't', prompt: { messages: [{ role: 'user', content: id }] }, pseudonyms: null, completion: `answer ${id}` });
    }
    assert.equal(await bodies.flush(5_000), true);
    assert.equal((await bodies.get('old'))?.completion, 'answer old');
    const retention = startRetention(store, 30, 3_600_000);
    try {
      assert.equal(await retention.runNow(), 1, 'one request row deleted');
    } finally {
      retention.stop();
    }
    assert.equal(await bodies.get('old'), null);
    assert.deepEqual((await bodies.get('new'))?.prompt, { messages: [{ role: 'user', content: 'new' }] });
    const rows = await store.listRequests();
    assert.deepEqual(rows.map((item) => [item.id, item.region, item.pii_types]), [['new', 'eu-west', { email: 1 }]]);
  } finally {
    await bodies.close(1_000);
    await store.close();
  }
});

test('teams keep their data_policy column through the store', async () => {
  const store = await openStore({ url: ':memory:' });
  try {
    const team = {
      id: 'team_1',
      name: 'a',
      models: null,
      rpm: null,
      tpm: null,
      max_parallel: null,
      budget: null,
      budget_period: 'month' as const,
      metadata: {},
      data_policy: { log_bodies: true, residency: ['eu'] },
      state: 'active' as const,
      created_at: 1,
      updated_at: 1,
    };
    await store.insertTeam(team);
    assert.deepEqual((await store.getTeam('team_1'))?.data_policy, { log_bodies: true, residency: ['eu'] });
    await store.updateTeam({ ...team, data_policy: null });
    assert.equal((await store.getTeam('team_1'))?.data_policy, null);
  } finally {
    await store.close();
  }
});
