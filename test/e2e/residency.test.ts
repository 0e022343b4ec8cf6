import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startFaultUpstream, type FaultUpstream } from '../emulators/fault-upstream.js';

/** Data residency: a key limited to [eu, on-prem] never reaches a deployment elsewhere — retries and fallbacks included. */

const MASTER = 'master-key-residency-test';
let running: RunningGateway;
let eu: FaultUpstream, usA: FaultUpstream, usB: FaultUpstream, onPrem: FaultUpstream;
let key: string;

function deployment(upstream: FaultUpstream, region: string): string {
  return `      - { provider: openai-compatible, name: ${upstream.name}, base_url: ${upstream.url}, model: m, region: ${region} }\n`;
}

before(async () => {
  [eu, usA, usB, onPrem] = (await Promise.all(['eu', 'us-a', 'us-b', 'on-prem'].map((name) => startFaultUpstream(name)))) as [FaultUpstream, FaultUpstream, FaultUpstream, FaultUpstream];
  running = await startGateway(
    `auth: { master_key: ${MASTER} }\n` +
      `resilience:\n  retry: { attempts: 3, initial_backoff_ms: 1, max_backoff_ms: 2 }\n  breaker: { failures: 1000, min_requests: 100000 }\n` +
      `models:\n` +
      `  - name: main\n    routing: { strategy: round-robin }\n    fallbacks: [backup]\n    deployments:\n${deployment(eu, 'eu')}${deployment(usA, 'us')}` +
      `  - name: backup\n    deployments:\n${deployment(usB, 'us')}${deployment(onPrem, 'on-prem')}` +
      `  - name: us-only\n    deployments:\n${deployment(usA, 'us').replace('name: us-a', 'name: us-a-only')}`,
    {},
  );
  const created = await fetch(`${running.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'eu-app', data_policy: { residency: ['eu', 'on-prem'] } }),
  });
  assert.equal(created.status, 201);
  key = ((await created.json()) as { key: string }).key;
});
after(async () => {
  await running.close();
  await Promise.all([eu, usA, usB, onPrem].map((upstream) => upstream.close()));
});

function chat(model: string, stream = false): Promise<Response> {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
  });
}

describe('data residency', () => {
  test('healthy: only the eu deployment answers, never its us sibling', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await chat('main')).status, 200);
    assert.equal(eu.count, 6);
    assert.equal(usA.count, 0);
  });

  test('the eu deployment fails (500, resets, broken streams): retries and fallbacks reach on-prem only', async () => {
    for (const mode of [{ kind: 'status', status: 500 }, { kind: 'reset' }, { kind: 'reset-before-first-event' }] as const) {
      eu.mode = mode;
      const response = await chat('main', mode.kind === 'reset-before-first-event');
      assert.equal(response.status, 200, mode.kind);
      assert.equal(response.headers.get('x-stellwerk-deployment'), 'on-prem');
      await response.text();
    }
    assert.equal(usA.count + usB.count, 0);
  });

  test('every allowed deployment fails: the error is answered, nothing goes to us', async () => {
    eu.mode = { kind: 'status', status: 503 };
    onPrem.mode = { kind: 'status', status: 500 };
    const response = await chat('main');
    assert.equal(response.status, 502);
    await response.text();
    assert.equal(usA.count + usB.count, 0);
    eu.mode = { kind: 'ok' };
    onPrem.mode = { kind: 'ok' };
  });

  test('no deployment in an allowed region: a clear 403, nothing sent anywhere', async () => {
    const before = eu.count + usA.count + usB.count + onPrem.count;
    const response = await chat('us-only');
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'residency_unavailable');
    assert.match(body.error.message, /eu, on-prem/);
    assert.equal(eu.count + usA.count + usB.count + onPrem.count, before);
  });

  test('a pinned region outside the policy is not honoured', async () => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-stellwerk-region': 'us' },
      body: JSON.stringify({ model: 'main', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 403);
    assert.equal(usA.count + usB.count, 0);
  });
});
