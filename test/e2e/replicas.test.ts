import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { listeningUrl, spawnCli, type CliProcess } from '../helpers/cli.js';

/**
 * Three gateway processes sharing one Postgres and one Redis, as replicas behind a load
 * balancer would: limits and budgets hold globally, revocation reaches every replica, and a
 * replica that stops with requests in flight loses none of their spend rows.
 */

const MASTER = 'replica-master-key-0001';
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const database = `stellwerk_replicas_${randomBytes(4).toString('hex')}`;
const prefix = `stw-test-${randomBytes(4).toString('hex')}:`;
// 24 completion tokens at this price cost exactly $0.01; prompts cost nothing.
const OUTPUT_PER_1M = 10_000 / 24;
const COST_NANOS = 10_000_000;

let configPath: string;
const replicas: CliProcess[] = [];
const urls: string[] = [];

before(async () => {
  const adminDb = new pg.Client({ connectionString: ADMIN_URL });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${database}`);
  await adminDb.end();
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-replicas-'));
  configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    `auth: { master_key: ${MASTER} }
governance:
  database_url: postgres://postgres@127.0.0.1:5432/${database}
  redis_url: redis://127.0.0.1:6379
  redis_prefix: "${prefix}"
  key_pepper: replica-test-pepper-0123456789
models:
  - name: demo
    deployments:
      - { provider: simulator, ttft_ms: 0, tokens_per_second: 0, output_tokens: 24, price: { input_per_1m: 0, output_per_1m: ${OUTPUT_PER_1M} } }
  - name: slow
    deployments:
      - { provider: simulator, ttft_ms: 100, tokens_per_second: 20, output_tokens: 20 }
`,
  );
  for (let i = 0; i < 3; i++) replicas.push(spawnCli(['start', '--config', configPath, '--port', '0']));
  for (const replica of replicas) urls.push(await listeningUrl(replica));
});

after(async () => {
  for (const replica of replicas) {
    if (replica.child.exitCode === null) replica.child.kill('SIGTERM');
    await replica.exited();
  }
  const adminDb = new pg.Client({ connectionString: ADMIN_URL });
  await adminDb.connect();
  await adminDb.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminDb.end();
});

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

function chat(url: string, key: string, model = 'demo', stream = false) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, max_tokens: 24, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** Waits until every replica knows the key (a request that costs no limit: the model list). */
async function knownEverywhere(key: string): Promise<void> {
  for (const url of urls) {
    const deadline = Date.now() + 5_000;
    while ((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status !== 200) {
      assert.ok(Date.now() < deadline, `replica ${url} never learned the key`);
    }
  }
}

async function usageOf(keyId: string): Promise<{ requests: number; spend_usd: number } | undefined> {
  const usage = await admin(urls[0]!, 'GET', '/admin/usage?group_by=key');
  return (usage.data as { key: string; requests: number; spend_usd: number }[]).find((row) => row.key === keyId);
}

async function rowsWritten(keyId: string, count: number): Promise<{ requests: number; spend_usd: number }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const row = await usageOf(keyId);
    if (row !== undefined && row.requests >= count) return row;
    assert.ok(Date.now() < deadline, `only ${row?.requests ?? 0} of ${count} rows were written`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('rpm 600 across three replicas: of 2,000 concurrent requests at most 600 are admitted', async () => {
  const created = await admin(urls[0]!, 'POST', '/admin/keys', { rpm: 600 });
  const key = created.key as string;
  await knownEverywhere(key);
  const responses = await Promise.all(Array.from({ length: 2000 }, (_, i) => chat(urls[i % 3]!, key)));
  const statuses = responses.map((response) => response.status);
  await Promise.all(responses.map((response) => response.body?.cancel()));
  const admitted = statuses.filter((status) => status === 200).length;
  assert.ok(admitted <= 600, `${admitted} admitted`);
  assert.ok(admitted >= 590, `${admitted} admitted: the limit is shared, not split`);
  assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);
});

test('a $1.00 budget across replicas: spend stays within one request of it, and the stored spend is the exact sum', async () => {
  const created = await admin(urls[1]!, 'POST', '/admin/keys', { budget: 1, budget_period: 'total' });
  const key = created.key as string;
  await knownEverywhere(key);
  const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => chat(urls[i % 3]!, key)));
  const admitted = responses.filter((response) => response.status === 200).length;
  await Promise.all(responses.map((response) => response.text()));
  assert.ok(admitted <= 101, `${admitted} requests of $0.01 admitted on a $1.00 budget`);
  assert.ok(admitted >= 95, `${admitted}: the budget was used`);
  const row = await rowsWritten(created.id as string, 300);
  assert.equal(row.requests, 300);
  assert.equal(Math.round(row.spend_usd * 1e9), admitted * COST_NANOS, 'stored spend = sum of settled costs');
  assert.ok(row.spend_usd <= 1.01 + 1e-9);
});

test('a busy key is admitted from blocks leased from Redis; /metrics tells how admissions were decided', async () => {
  const created = await admin(urls[2]!, 'POST', '/admin/keys', { rpm: 100_000, tpm: 100_000_000 });
  const key = created.key as string;
  await knownEverywhere(key);
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${urls[2]}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(name + ' ') || candidate.startsWith(name + '{'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const before = await metric('stellwerk_limit_admissions_total{path="lease"}');
  // 8 clients, 40 requests each, one after the other: busy enough to lease.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 40; i++) {
        const response = await chat(urls[2]!, key);
        assert.equal(response.status, 200);
        assert.ok(Number(response.headers.get('x-ratelimit-remaining-requests')) > 99_000);
        await response.text();
      }
    }),
  );
  assert.ok((await metric('stellwerk_limit_admissions_total{path="lease"}')) > before, 'admissions from leased blocks');
  assert.ok((await metric('stellwerk_limit_admissions_total{path="redis"}')) > 0, 'and, before the key was busy, in Redis');
  assert.ok((await metric('stellwerk_limit_lease_blocks_total{outcome="granted"}')) > 0);
  assert.ok((await metric('stellwerk_limit_lease_calls_total')) > 0);
});

test('revocation reaches every replica within a second', async () => {
  const created = await admin(urls[0]!, 'POST', '/admin/keys', {});
  const key = created.key as string;
  await knownEverywhere(key);
  await admin(urls[0]!, 'DELETE', `/admin/keys/${created.id as string}`);
  const revokedAt = Date.now();
  for (const url of urls) {
    while ((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status !== 401) {
      assert.ok(Date.now() - revokedAt < 1_000, `replica ${url} still accepts the revoked key`);
    }
  }
});

test('a replica stopped with requests in flight loses none of their spend rows', async () => {
  const created = await admin(urls[0]!, 'POST', '/admin/keys', {});
  const key = created.key as string;
  await knownEverywhere(key);
  const stopping = replicas[2]!;
  const streams = await Promise.all(Array.from({ length: 20 }, () => chat(urls[2]!, key, 'slow', true)));
  assert.ok(streams.every((response) => response.status === 200));
  stopping.child.kill('SIGTERM');
  const bodies = await Promise.all(streams.map((response) => response.text()));
  assert.ok(bodies.every((body) => body.endsWith('data: [DONE]\n\n')), 'every stream finished');
  assert.equal(await stopping.exited(), 0);
  const row = await rowsWritten(created.id as string, 20);
  assert.equal(row.requests, 20);
});
