import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { fallbackModelsYaml, startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { createTestDatabase, type TestDatabase } from '../../src/store/testing/databases.js';

const MASTER = 'master-key-request-log-test';

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

type Row = Record<string, unknown>;

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

function gatewayConfig(governance: string): string {
  return `
auth: { master_key: ${MASTER} }
${governance}
${fallbackModelsYaml(emulator.url)}  - name: sim
    deployments:
      - { provider: simulator, name: sim-1, ttft_ms: 0, tokens_per_second: 0, output_tokens: 5 }
`;
}

const stores: [string, () => Promise<{ governance: string; cleanup: () => Promise<void> }>][] = [
  ['SQLite', async () => ({ governance: '', cleanup: async () => undefined })],
  [
    'Postgres',
    async () => {
      const database: TestDatabase = await createTestDatabase();
      return {
        governance: `governance: { database_url: "${database.url}", key_pepper: request-log-test-pepper-0123456789 }`,
        cleanup: () => database.drop(),
      };
    },
  ],
];

for (const [name, prepare] of stores) {
  describe(`GET /admin/requests on ${name}`, () => {
    let running: RunningGateway;
    let cleanup: () => Promise<void>;
    const keys: Record<string, { id: string; key: string }> = {};
    const teams: Record<string, string> = {};

    async function admin(path: string, key = MASTER): Promise<Answer> {
      const response = await fetch(running.url + path, { headers: { authorization: `Bearer ${key}` } });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    }

    async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
      const response = await fetch(running.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as Record<string, unknown>;
      assert.equal(response.status, 201, JSON.stringify(json));
      return json;
    }

    const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${running.url}/v1`, maxRetries: 0 });

    async function flushLog(): Promise<void> {
      assert.equal(await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS), true);
    }

    before(async () => {
      const prepared = await prepare();
      cleanup = prepared.cleanup;
      running = await startGateway(gatewayConfig(prepared.governance), {});
      teams.a = (await post('/admin/teams', { name: 'A' })).id as string;
      teams.b = (await post('/admin/teams', { name: 'B' })).id as string;
      for (const [label, body] of Object.entries({
        userA: { team: teams.a },
        adminA: { team: teams.a, role: 'admin' },
        userB: { team: teams.b },
      })) {
        const created = await post('/admin/keys', body);
        keys[label] = { id: created.id as string, key: created.key as string };
      }
      // Team A: a retried request (2 attempts) and a quick one; team B: one; plus a refused one.
      await openai(keys.userA!.key).chat.completions.create({ model: 'main', messages: [{ role: 'user', content: 'one' }] });
      await openai(keys.userA!.key).chat.completions.create({ model: 'sim', messages: [{ role: 'user', content: 'two' }] });
      await openai(keys.userB!.key).chat.completions.create({ model: 'sim', messages: [{ role: 'user', content: 'three' }] });
      await assert.rejects(openai(keys.userB!.key).chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'four' }] }));
      await flushLog();
    });
    after(async () => {
      await running.close();
      await cleanup();
    });

    test('the master key sees every request, newest first, and each filter narrows it', async () => {
      const all = await admin('/admin/requests');
      assert.equal(all.status, 200, JSON.stringify(all.json));
      const rows = all.json.data as Row[];
      assert.deepEqual(rows.map((row) => [row.alias, row.key_id, row.status]), [
        [null, keys.userB!.id, 404],
        ['sim', keys.userB!.id, 200],
        ['sim', keys.userA!.id, 200],
        ['main', keys.userA!.id, 200],
      ]);
      assert.equal(all.json.has_more, false);
      assert.equal(all.json.next_cursor, null);
      const first = rows[3]!;
      assert.equal(first.deployment, 'healthy');
      assert.equal(first.team_id, teams.a);
      assert.equal(first.attempt_count, 2);
      assert.match(first.created_at as string, /^\d{4}-\d{2}-\d{2}T/);
      assert.equal(typeof first.cost_usd, 'number');
      assert.equal(typeof first.latency_ms, 'number');

      const count = async (query: string) => ((await admin(`/admin/requests?${query}`)).json.data as Row[]).length;
      assert.equal(await count(`key=${keys.userA!.id}`), 2);
      assert.equal(await count(`team=${teams.b}`), 2);
      assert.equal(await count(`team=${teams.b}&status=4xx`), 1);
      assert.equal(await count('status=200'), 3);
      assert.equal(await count('status=error'), 1);
      assert.equal(await count('alias=sim&min_latency_ms=0&max_latency_ms=60000'), 2);
      assert.equal(await count('deployment=healthy'), 1);
      assert.equal(await count('min_tokens=1'), 3);
      assert.equal(await count('min_cost_usd=1000'), 0);
      const hour = 3_600_000;
      assert.equal(await count(`from=${new Date(Date.now() - hour).toISOString()}&to=${new Date(Date.now() + hour).toISOString()}`), 4);
      assert.equal(await count(`to=${new Date(Date.now() - hour).toISOString()}`), 0);
    });

    test('pages of a given size follow the cursor to the end', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Answer = await admin(`/admin/requests?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
        assert.equal(page.status, 200);
        seen.push(...(page.json.data as Row[]).map((row) => row.id as string));
        cursor = page.json.next_cursor as string | null;
        assert.equal(page.json.has_more, cursor !== null);
      } while (cursor !== null);
      const whole = ((await admin('/admin/requests')).json.data as Row[]).map((row) => row.id);
      assert.deepEqual(seen, whole);
    });

    test('the detail holds the attempts, timings, cost and accounting', async () => {
      const [retried] = (await admin('/admin/requests?alias=main')).json.data as Row[];
      const detail = await admin(`/admin/requests/${retried!.id as string}`);
      assert.equal(detail.status, 200);
      const attempts = detail.json.attempts as Row[];
      assert.deepEqual(
        attempts.map((attempt) => [attempt.deployment, attempt.status, attempt.error_code]),
        [
          ['failing', 500, 'upstream_error'],
          ['healthy', 200, null],
        ],
      );
      for (const attempt of attempts) assert.equal(typeof attempt.latency_ms, 'number');
      for (const field of ['latency_ms', 'ttft_ms', 'cost_usd', 'energy_wh', 'co2e_g', 'usage_estimated', 'pii_types', 'region', 'prompt_tokens']) {
        assert.ok(field in detail.json, field);
      }
      const missing = await admin('/admin/requests/00000000-0000-4000-8000-000000000000');
      assert.equal(missing.status, 404);
    });

    test('an admin key sees only its team’s requests; another team’s id is not found', async () => {
      const own = await admin('/admin/requests', keys.adminA!.key);
      assert.equal(own.status, 200);
      const rows = own.json.data as Row[];
      assert.equal(rows.length, 2);
      assert.ok(rows.every((row) => row.team_id === teams.a));
      assert.equal((await admin(`/admin/requests?team=${teams.a}`, keys.adminA!.key)).status, 200);
      const other = await admin(`/admin/requests?team=${teams.b}`, keys.adminA!.key);
      assert.equal(other.status, 403);
      assert.equal((other.json.error as Row).param, 'team');
      const [foreign] = (await admin(`/admin/requests?team=${teams.b}`)).json.data as Row[];
      assert.equal((await admin(`/admin/requests/${foreign!.id as string}`, keys.adminA!.key)).status, 404);
      assert.equal((await admin(`/admin/requests/${rows[0]!.id as string}`, keys.adminA!.key)).status, 200);
      assert.equal((await admin('/admin/requests', keys.userA!.key)).status, 403, 'a user key has no admin rights');
      assert.equal((await fetch(`${running.url}/admin/requests`)).status, 401);
    });

    test('bad parameters are 400s that name the parameter', async () => {
      const cases: [string, string][] = [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=ten', 'limit'],
        ['status=abc', 'status'],
        ['status=6xx', 'status'],
        ['cursor=not-a-cursor', 'cursor'],
        ['from=yesterday', 'from'],
        ['from=2026-03-01', 'from'],
        ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
        ['min_latency_ms=-1', 'min_latency_ms'],
        ['min_latency_ms=10&max_latency_ms=5', 'min_latency_ms'],
        ['min_tokens=1.5', 'min_tokens'],
        ['min_cost_usd=cheap', 'min_cost_usd'],
        ['key=', 'key'],
        ['alias=a&alias=b', 'alias'],
        ['colour=red', 'colour'],
      ];
      for (const [query, param] of cases) {
        const answer = await admin(`/admin/requests?${query}`);
        assert.equal(answer.status, 400, query);
        const error = answer.json.error as Row;
        assert.equal(error.param, param, query);
        assert.equal(error.code, 'invalid_request', query);
      }
    });
  });
}
