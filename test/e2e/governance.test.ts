import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { adminCall, startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import type { GovernanceStore } from '../../src/store/types.js';

const MASTER = 'master-key-governance-test';

let running: RunningGateway;
before(async () => {
  running = await startGateway(`
auth: { master_key: ${MASTER} }
models:
  - name: demo
    deployments:
      - { provider: simulator, name: sim, ttft_ms: 0, tokens_per_second: 0, output_tokens: 10, price: { input_per_1m: 0, output_per_1m: 100000 } }
  - name: slow
    deployments:
      - { provider: simulator, name: sim-slow, ttft_ms: 300, tokens_per_second: 0, output_tokens: 5 }
  - name: other
    deployments:
      - { provider: simulator, name: sim-other, ttft_ms: 0, tokens_per_second: 0 }
`);
});
after(() => running.close());

const admin = (method: string, path: string, body?: unknown, key = MASTER) => adminCall(running, key, method, path, body);

async function createKey(body: Record<string, unknown> = {}, key = MASTER): Promise<{ id: string; key: string }> {
  const created = await admin('POST', '/admin/keys', body, key);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return { id: created.json.id as string, key: created.json.key as string };
}

function chat(key: string, model = 'demo', extra: Record<string, unknown> = {}) {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, ...extra }),
  });
}

describe('keys', () => {
  test('a key is shown once, stored only as a hash, and works with the OpenAI SDK', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'app-1', metadata: { owner: 'qa' } });
    assert.equal(created.status, 201);
    const key = created.json.key as string;
    assert.match(key, /^sk-stw-[0-9A-Za-z]{43}$/);
    assert.equal(created.json.prefix, key.slice(0, 11));
    assert.equal(created.json.hash, undefined);
    const fetched = await admin('GET', `/admin/keys/${created.json.id as string}`);
    assert.equal(fetched.json.key, undefined, 'the secret is never shown again');
    assert.deepEqual(fetched.json.metadata, { owner: 'qa' });
    const listed = await admin('GET', '/admin/keys');
    assert.ok(!JSON.stringify(listed.json).includes(key));
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
  });

  test('unknown, revoked, blocked and expired keys are refused with the right error', async () => {
    assert.equal((await chat('sk-stw-doesnotexist')).status, 401);
    const revoked = await createKey();
    assert.equal((await admin('DELETE', `/admin/keys/${revoked.id}`)).json.state, 'revoked');
    assert.equal((await chat(revoked.key)).status, 401);
    const blocked = await createKey();
    await admin('PATCH', `/admin/keys/${blocked.id}`, { state: 'blocked' });
    const blockedAnswer = await chat(blocked.key);
    assert.equal(blockedAnswer.status, 403);
    assert.equal(((await blockedAnswer.json()) as { error: { code: string } }).error.code, 'key_blocked');
    await admin('PATCH', `/admin/keys/${blocked.id}`, { state: 'active' });
    assert.equal((await chat(blocked.key)).status, 200);
    const expired = await createKey({ expires_at: new Date(Date.now() - 1000).toISOString() });
    const expiredAnswer = await chat(expired.key);
    assert.equal(expiredAnswer.status, 401);
    assert.equal(((await expiredAnswer.json()) as { error: { code: string } }).error.code, 'key_expired');
  });

  test('rotation: the new secret works, the old one for the grace period only', async () => {
    const original = await createKey();
    const rotated = await admin('POST', `/admin/keys/${original.id}/rotate?grace_ms=60000`);
    const fresh = rotated.json.key as string;
    assert.notEqual(fresh, original.key);
    assert.equal((await chat(fresh)).status, 200);
    assert.equal((await chat(original.key)).status, 200, 'within the grace period');
    await admin('POST', `/admin/keys/${original.id}/rotate?grace_ms=0`);
    assert.equal((await chat(fresh)).status, 401, 'grace 0: the previous secret stops at once');
  });

  test('a key may be limited to some models', async () => {
    const limited = await createKey({ models: ['demo'] });
    assert.equal((await chat(limited.key, 'demo')).status, 200);
    const refused = await chat(limited.key, 'other');
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'model_not_allowed');
  });

  test('validation errors name the field; unknown ids are 404', async () => {
    const bad = await admin('POST', '/admin/keys', { rpm: -5 });
    assert.equal(bad.status, 400);
    assert.equal((bad.json.error as { param: string }).param, 'rpm');
    const huge = await admin('POST', '/admin/keys', { tpm: 1_000_000_000_000 });
    assert.equal(huge.status, 400, 'a limit the store cannot hold is refused, not a 500');
    assert.equal((huge.json.error as { param: string }).param, 'tpm');
    const unknown = await admin('POST', '/admin/keys', { colour: 'red' });
    assert.equal((unknown.json.error as { param: string }).param, 'colour');
    assert.equal((await admin('GET', '/admin/keys/key_nope')).status, 404);
    assert.equal((await admin('POST', '/admin/keys', { team: 'team_nope' })).status, 400);
  });
});

describe('rights', () => {
  test('an admin key manages its own team only; user keys and no key get nothing', async () => {
    const teamA = (await admin('POST', '/admin/teams', { name: 'A' })).json.id as string;
    const teamB = (await admin('POST', '/admin/teams', { name: 'B' })).json.id as string;
    const adminA = await createKey({ team: teamA, role: 'admin' });
    const inB = await createKey({ team: teamB });
    const made = await admin('POST', '/admin/keys', { name: 'made by A' }, adminA.key);
    assert.equal(made.status, 201);
    assert.equal(made.json.team_id, teamA, 'forced into the admin key’s team');
    assert.equal((await admin('POST', '/admin/keys', { team: teamB }, adminA.key)).status, 403);
    assert.equal((await admin('GET', `/admin/keys/${inB.id}`, undefined, adminA.key)).status, 403);
    assert.equal((await admin('DELETE', `/admin/keys/${inB.id}`, undefined, adminA.key)).status, 403);
    const visible = (await admin('GET', '/admin/keys', undefined, adminA.key)).json.data as { team_id: string }[];
    assert.ok(visible.length >= 2 && visible.every((key) => key.team_id === teamA));
    assert.equal((await admin('POST', '/admin/teams', { name: 'C' }, adminA.key)).status, 403);
    assert.equal((await admin('GET', `/admin/teams/${teamB}`, undefined, adminA.key)).status, 404);
    assert.equal((await admin('GET', '/admin/keys', undefined, inB.key)).status, 403);
    const anonymous = await fetch(`${running.url}/admin/keys`);
    assert.equal(anonymous.status, 401);
  });

  test('the OpenAPI description is served', async () => {
    const document = (await (await fetch(`${running.url}/admin/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(document.openapi, '3.1.0');
    for (const path of ['/admin/keys', '/admin/keys/{id}', '/admin/keys/{id}/rotate', '/admin/teams', '/admin/teams/{id}', '/admin/usage']) {
      assert.ok(path in document.paths, path);
    }
  });
});

describe('limits and budgets', () => {
  test('rpm: over the limit is 429 with retry-after and OpenAI-style rate-limit headers', async () => {
    const limited = await createKey({ rpm: 3 });
    for (let i = 0; i < 3; i++) {
      const ok = await chat(limited.key);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(ok.headers.get('x-ratelimit-remaining-requests'), String(2 - i));
    }
    const refused = await chat(limited.key);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limit_exceeded');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
  });

  test('max_parallel: a second request while one is in flight is refused', async () => {
    const single = await createKey({ max_parallel: 1 });
    const first = chat(single.key, 'slow');
    const deployment = running.gateway.runtime.routes.get('slow')!.deployments[0]!;
    while (deployment.state.inFlight === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await chat(single.key, 'slow');
    assert.equal(second.status, 429);
    assert.equal((await first).status, 200);
    assert.equal((await chat(single.key, 'slow')).status, 200, 'the slot is free again');
  });

  test('budget: the worst case is reserved, and a key at its budget is refused before any upstream call', async () => {
    // Each answer: 10 completion tokens at $100,000 per million = $1.00; the budget holds three.
    const budgeted = await createKey({ budget: 3, budget_period: 'day' });
    for (let i = 0; i < 3; i++) assert.equal((await chat(budgeted.key)).status, 200);
    const refused = await chat(budgeted.key);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'budget_exceeded');
  });

  test('a team budget holds on top of its keys', async () => {
    const team = (await admin('POST', '/admin/teams', { name: 'budgeted', budget: 2, budget_period: 'month' })).json.id as string;
    const one = await createKey({ team });
    const two = await createKey({ team });
    assert.equal((await chat(one.key)).status, 200);
    assert.equal((await chat(two.key)).status, 200);
    assert.equal((await chat(one.key)).status, 429);
    assert.equal((await chat(two.key)).status, 429);
  });
});

describe('accounting of requests', () => {
  test('usage by key counts requests, tokens and spend, written off the request path', async () => {
    const counted = await createKey({ name: 'counted' });
    for (let i = 0; i < 4; i++) assert.equal((await chat(counted.key)).status, 200);
    await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS);
    const usage = await admin('GET', '/admin/usage?group_by=key');
    const row = (usage.json.data as { key: string; requests: number; completion_tokens: number; spend_usd: number }[]).find((item) => item.key === counted.id);
    assert.deepEqual(row && [row.requests, row.completion_tokens, row.spend_usd], [4, 40, 4]);
    const byDay = await admin('GET', '/admin/usage?group_by=day');
    assert.ok((byDay.json.data as { day: string }[]).some((item) => item.day === new Date().toISOString().slice(0, 10)));
  });

  test('the request path makes no store query', async () => {
    const key = await createKey({ rpm: 1000, budget: 1000 });
    const store = running.gateway.runtime.governance!.store;
    const calls = countCalls(store);
    for (let i = 0; i < 30; i++) assert.equal((await chat(key.key)).status, 200);
    calls.stop();
    assert.deepEqual(
      Object.entries(calls.counts).filter(([name]) => name !== 'insertRequests'),
      [],
      'only the batch writer touches the store',
    );
    assert.ok((calls.counts.insertRequests ?? 0) <= 2, 'rows go in batches');
  });
});

/** Counts calls to every method of the store object (the real one), until stop(). */
function countCalls(store: GovernanceStore): { counts: Record<string, number>; stop(): void } {
  const counts: Record<string, number> = {};
  const target = store as unknown as Record<string, unknown>;
  const originals = new Map<string, unknown>();
  let proto: object | null = Object.getPrototypeOf(store);
  const names = new Set<string>();
  while (proto !== null && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor' && typeof target[name] === 'function') names.add(name);
    proto = Object.getPrototypeOf(proto);
  }
  for (const name of names) {
    const original = target[name] as (...args: unknown[]) => unknown;
    originals.set(name, Object.prototype.hasOwnProperty.call(target, name) ? original : undefined);
    target[name] = function (this: unknown, ...args: unknown[]) {
      counts[name] = (counts[name] ?? 0) + 1;
      return original.apply(this, args);
    };
  }
  return {
    counts,
    stop() {
      for (const [name, original] of originals) {
        if (original === undefined) delete target[name];
        else target[name] = original;
      }
    },
  };
}
