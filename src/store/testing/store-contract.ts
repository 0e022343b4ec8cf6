// The contract every GovernanceStore implementation runs (SQLite and Postgres): one suite, so
// the two cannot drift apart. Not used at run time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyRecord, TeamRecord } from '../../guard/types.js';
import { StoreConflictError } from '../errors.js';
import { MIGRATION_TABLE, storeMigrations } from '../migrations.js';
import { openStore } from '../open-store.js';
import { startRetention } from '../retention.js';
import type { SqlGovernanceStore } from '../sql-store.js';
import type { RequestRow, UsageRow } from '../types.js';
import { createTestDatabase } from './databases.js';

export interface ContractSubject {
  readonly store: SqlGovernanceStore;
  cleanup(): Promise<void>;
}

/** A migrated store on a throwaway Postgres database; cleanup closes the store and drops the database. */
export async function postgresSubject(): Promise<ContractSubject> {
  const database = await createTestDatabase();
  const store = await openStore({ url: database.url, poolSize: 4 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await database.drop();
    },
  };
}

const DAY = 86_400_000;
/** 2026-03-01T00:00:00Z */
const T0 = Date.UTC(2026, 2, 1);

export function team(id: string, overrides: Partial<TeamRecord> = {}): TeamRecord {
  return {
    id,
    name: `Team ${id}`,
    models: ['gpt-4o', 'llama-3-70b'],
    metadata: { cost_center: 'R&D-42', nested: { list: [1, 2.5, 'drei', null, true], empty: {} }, unicode: 'Grüße 🚂' },
    data_policy: { log_bodies: true, residency: ['eu'] },
    state: 'active',
    rpm: 600,
    tpm: 100_000,
    max_parallel: 8,
    budget: 1234.56,
    budget_period: 'month',
    created_at: T0,
    updated_at: T0 + 1,
    ...overrides,
  };
}

export function key(id: string, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    hash: `hash-${id}`,
    prefix: `sk-stw-${id.slice(0, 4)}`,
    name: `key ${id}`,
    team_id: null,
    role: 'user',
    models: null,
    expires_at: null,
    metadata: {},
    data_policy: null,
    state: 'active',
    rpm: null,
    tpm: null,
    max_parallel: null,
    budget: null,
    budget_period: 'total',
    created_at: T0,
    updated_at: T0,
    previous_hash: null,
    previous_expires_at: null,
    ...overrides,
  };
}

export function request(id: string, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id,
    ts: T0,
    key_id: 'k1',
    team_id: 't1',
    alias: 'gpt-4o',
    deployment: 'azure-eu',
    endpoint: '/v1/chat/completions',
    status: 200,
    stream: false,
    prompt_tokens: 10,
    completion_tokens: 5,
    cost_nanos: 1_000,
    latency_ms: 120,
    ttft_ms: null,
    error_code: null,
    energy_wh: null,
    co2e_ug: null,
    usage_estimated: false,
    attempts: null,
    region: null,
    pii_types: null,
    ...overrides,
  };
}

/** A usage row as the store sums it; the accounting sums are 0 unless given. */
function sums(row: Omit<UsageRow, 'energy_wh' | 'co2e_ug' | 'estimated_requests'> & Partial<UsageRow>): UsageRow {
  return { energy_wh: 0, co2e_ug: 0, estimated_requests: 0, ...row };
}

/** Every migration this version knows, in order. */
export const MIGRATIONS = Object.keys(storeMigrations('sqlite')).sort();

export function storeContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`GovernanceStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: SqlGovernanceStore;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(async () => {
      await subject.cleanup();
    });

    test('a team round-trips with every field, JSON and nulls', async () => {
      const full = team('t-full');
      const bare = team('t-bare', { models: null, metadata: {}, rpm: null, tpm: null, max_parallel: null, budget: null, state: 'blocked', budget_period: 'total' });
      const empty = team('t-empty', { models: [] });
      await store.insertTeam(full);
      await store.insertTeam(bare);
      await store.insertTeam(empty);
      assert.deepEqual(await store.getTeam('t-full'), full);
      assert.deepEqual(await store.getTeam('t-bare'), bare);
      assert.deepEqual(await store.getTeam('t-empty'), empty);
      assert.equal(await store.getTeam('nope'), null);
      const listed = await store.listTeams();
      assert.deepEqual(
        listed.filter((item) => item.id.startsWith('t-')).map((item) => item.id),
        ['t-bare', 't-empty', 't-full'],
      );
      const changed = { ...full, name: 'Renamed', models: ['x'], budget: 0.000001, metadata: { a: 1 }, updated_at: T0 + 99 };
      assert.equal(await store.updateTeam(changed), true);
      assert.deepEqual(await store.getTeam('t-full'), changed);
      assert.equal(await store.updateTeam(team('t-missing')), false);
      await assert.rejects(store.insertTeam(team('t-full')), StoreConflictError);
    });

    test('a key round-trips with every field set, and with every nullable field null', async () => {
      const full = key('k-full', {
        name: 'CI pipeline',
        team_id: 't-full',
        role: 'admin',
        models: ['gpt-4o'],
        expires_at: T0 + 30 * DAY,
        metadata: { owner: 'ops@example.com', tags: ['ci', 'prod'], limits: { soft: 0.5 } },
        data_policy: { residency: ['eu'], pii: { mask: true, entities: ['EMAIL', 'IBAN'] } },
        state: 'blocked',
        rpm: 60,
        tpm: 9_000,
        max_parallel: 2,
        budget: 25.5,
        budget_period: 'day',
        previous_hash: 'hash-old',
        previous_expires_at: T0 + DAY,
      });
      const bare = key('k-bare', { name: null });
      await store.insertKey(full);
      await store.insertKey(bare);
      const readFull = await store.getKey('k-full');
      assert.deepEqual(readFull, full);
      assert.equal(typeof readFull?.expires_at, 'number');
      assert.equal(typeof readFull?.created_at, 'number');
      assert.deepEqual(await store.getKey('k-bare'), bare);
      assert.equal(await store.getKey('nope'), null);
      const ids = (await store.listKeys()).map((item) => item.id);
      assert.ok(ids.includes('k-full') && ids.includes('k-bare'));

      const rotated = { ...full, hash: 'hash-new', previous_hash: full.hash, data_policy: null, state: 'revoked' as const, updated_at: T0 + 5 };
      assert.equal(await store.updateKey(rotated), true);
      assert.deepEqual(await store.getKey('k-full'), rotated);
      assert.equal(await store.updateKey(key('k-missing')), false);
    });

    test('key hashes and ids are unique: a duplicate is a StoreConflictError', async () => {
      await store.insertKey(key('k-u1', { hash: 'same-hash' }));
      await assert.rejects(store.insertKey(key('k-u2', { hash: 'same-hash' })), (error: unknown) => {
        assert.ok(error instanceof StoreConflictError);
        assert.equal(error.code, 'STORE_CONFLICT');
        return true;
      });
      await assert.rejects(store.insertKey(key('k-u1', { hash: 'other-hash' })), StoreConflictError);
      await store.insertKey(key('k-u3', { hash: 'third-hash' }));
      await assert.rejects(store.updateKey(key('k-u3', { hash: 'same-hash' })), StoreConflictError);
      assert.equal((await store.getKey('k-u3'))?.hash, 'third-hash');
      assert.equal(await store.getKey('k-u2'), null);
    });

    test('deleting a team keeps its keys, with team_id null', async () => {
      await store.insertTeam(team('t-gone'));
      await store.insertKey(key('k-of-gone', { team_id: 't-gone' }));
      await store.insertKey(key('k-other', { team_id: 't-full' }));
      assert.equal(await store.deleteTeam('t-gone'), true);
      assert.equal(await store.getTeam('t-gone'), null);
      const orphan = await store.getKey('k-of-gone');
      assert.equal(orphan?.team_id, null);
      assert.ok((orphan?.updated_at ?? 0) > T0);
      assert.equal((await store.getKey('k-other'))?.team_id, 't-full');
      assert.equal(await store.deleteTeam('t-gone'), false);
    });

    test('request rows round-trip with numbers and booleans as JS values; odd values are made storable', async () => {
      const rows = [
        request('r-rt-1', { ts: T0 - 10 * DAY, stream: true, ttft_ms: 42, error_code: null, cost_nanos: 4_000_000_000_123, region: 'eu-west', pii_types: { email: 2, iban: 1 } }),
        request('r-rt-2', { ts: T0 - 10 * DAY + 1, key_id: null, team_id: null, alias: null, deployment: null, status: 502, error_code: 'upstream_error' }),
        request('r-rt-3', { ts: T0 - 10 * DAY + 2, latency_ms: 12.7, ttft_ms: 3.2, alias: 'evil\u0000alias' }),
        // Quotes, backslashes, braces, commas and non-ASCII in text and JSON columns.
        request('r-rt-4', {
          ts: T0 - 10 * DAY + 3,
          deployment: 'dep "x", {y}\\z',
          region: 'zürich \u{1F682}',
          error_code: 'NULL',
          energy_wh: 0.000123,
          usage_estimated: true,
          pii_types: { 'e"mail': 1, 'back\\slash': 2 },
          attempts: [{ deployment: 'a"b\\c', status: null, error_code: 'upstream_timeout', latency_ms: 7 }],
        }),
      ];
      assert.equal(await store.insertRequestsCounted(rows), 4);
      const read = await store.listRequests({ from: T0 - 10 * DAY, to: T0 - 10 * DAY + 4 });
      assert.deepEqual(read.slice(0, 2), rows.slice(0, 2));
      assert.deepEqual(read[3], rows[3]);
      assert.equal(typeof read[0]!.ts, 'number');
      assert.equal(read[0]!.stream, true);
      assert.equal(read[1]!.stream, false);
      assert.equal(read[2]!.latency_ms, 13);
      assert.equal(read[2]!.ttft_ms, 3);
      assert.equal(read[2]!.alias, 'evilalias');
      await store.deleteRequestsBefore(T0 - 9 * DAY);
    });

    test('insertRequests is idempotent on the id, across batches and within one', async () => {
      const base = T0 + 100 * DAY;
      const first = [request('idem-1', { ts: base }), request('idem-2', { ts: base })];
      assert.equal(await store.insertRequestsCounted(first), 2);
      const second = [request('idem-2', { ts: base, cost_nanos: 999 }), request('idem-3', { ts: base }), request('idem-3', { ts: base })];
      assert.equal(await store.insertRequestsCounted(second), 1);
      await store.insertRequests(first);
      await store.insertRequests([]);
      const rows = await store.listRequests({ from: base, to: base + 1 });
      assert.deepEqual(rows.map((row) => row.id), ['idem-1', 'idem-2', 'idem-3']);
      assert.equal(rows[1]!.cost_nanos, 1_000, 'the first write wins');
      assert.equal(await store.deleteRequestsBefore(base + 1), 3);
    });

    test('usage groups by key, team, alias and UTC day with exact sums, bounds and a team filter', async () => {
      const base = T0 + 200 * DAY;
      const big = 3_000_000_000_000_001; // beyond 2^32 and float-unfriendly, still below 2^53 in sum
      const rows = [
        request('u-1', { ts: base, key_id: 'ka', team_id: 'ta', alias: 'm1', prompt_tokens: 100, completion_tokens: 7, cost_nanos: big }),
        request('u-2', { ts: base + DAY - 1, key_id: 'ka', team_id: 'ta', alias: 'm2', prompt_tokens: 3, completion_tokens: 4, cost_nanos: 2 }),
        request('u-3', { ts: base + DAY, key_id: 'kb', team_id: 'ta', alias: 'm1', prompt_tokens: 1, completion_tokens: 1, cost_nanos: big }),
        request('u-4', { ts: base + DAY + 5, key_id: 'kc', team_id: 'tb', alias: 'm1', prompt_tokens: 50, completion_tokens: 50, cost_nanos: 7 }),
        request('u-5', { ts: base + 2 * DAY, key_id: null, team_id: null, alias: null, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0, status: 401 }),
        request('u-out', { ts: base + 3 * DAY, key_id: 'ka', team_id: 'ta', cost_nanos: 1_000_000 }),
      ];
      await store.insertRequests(rows);
      const range = { from: base, to: base + 3 * DAY };

      assert.deepEqual(await store.usage({ groupBy: 'key', ...range }), [
        sums({ group: 'ka', requests: 2, prompt_tokens: 103, completion_tokens: 11, cost_nanos: big + 2 }),
        sums({ group: 'kb', requests: 1, prompt_tokens: 1, completion_tokens: 1, cost_nanos: big }),
        sums({ group: 'kc', requests: 1, prompt_tokens: 50, completion_tokens: 50, cost_nanos: 7 }),
        sums({ group: null, requests: 1, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0 }),
      ]);
      assert.deepEqual(await store.usage({ groupBy: 'team', ...range }), [
        sums({ group: 'ta', requests: 3, prompt_tokens: 104, completion_tokens: 12, cost_nanos: 2 * big + 2 }),
        sums({ group: 'tb', requests: 1, prompt_tokens: 50, completion_tokens: 50, cost_nanos: 7 }),
        sums({ group: null, requests: 1, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0 }),
      ]);
      assert.deepEqual(await store.usage({ groupBy: 'alias', ...range, teamId: 'ta' }), [
        sums({ group: 'm1', requests: 2, prompt_tokens: 101, completion_tokens: 8, cost_nanos: 2 * big }),
        sums({ group: 'm2', requests: 1, prompt_tokens: 3, completion_tokens: 4, cost_nanos: 2 }),
      ]);
      const day = (offset: number): string => new Date(base + offset * DAY).toISOString().slice(0, 10);
      assert.deepEqual(await store.usage({ groupBy: 'day', ...range }), [
        sums({ group: day(0), requests: 2, prompt_tokens: 103, completion_tokens: 11, cost_nanos: big + 2 }),
        sums({ group: day(1), requests: 2, prompt_tokens: 51, completion_tokens: 51, cost_nanos: big + 7 }),
        sums({ group: day(2), requests: 1, prompt_tokens: 0, completion_tokens: 0, cost_nanos: 0 }),
      ]);
      // from is inclusive, to exclusive.
      assert.deepEqual(
        (await store.usage({ groupBy: 'day', from: base + DAY - 1, to: base + DAY + 5 })).map((row) => [row.group, row.requests]),
        [[day(0), 1], [day(1), 1]],
      );
      const open = await store.usage({ groupBy: 'team', from: base, to: null, teamId: 'ta' });
      assert.deepEqual(open, [sums({ group: 'ta', requests: 4, prompt_tokens: 114, completion_tokens: 17, cost_nanos: 2 * big + 2 + 1_000_000 })]);
      assert.deepEqual(await store.usage({ groupBy: 'key', from: base + 10 * DAY, to: null }), []);
      assert.equal((await store.usage({ groupBy: 'key', from: null, to: null })).length >= 4, true);
    });

    test('usage sums energy, CO2e (exact micrograms) and estimated requests; unknown energy counts as nothing', async () => {
      const base = T0 + 300 * DAY;
      await store.insertRequests([
        request('a-1', { ts: base, alias: 'acc', energy_wh: 0.25, co2e_ug: 14_000, usage_estimated: true }),
        request('a-2', { ts: base + 1, alias: 'acc', energy_wh: 0.5, co2e_ug: 9_007_199_254_000 }),
        request('a-3', { ts: base + 2, alias: 'acc' }),
      ]);
      const [row] = await store.usage({ groupBy: 'alias', from: base, to: base + 3 });
      assert.deepEqual(row, sums({ group: 'acc', requests: 3, prompt_tokens: 30, completion_tokens: 15, cost_nanos: 3_000, energy_wh: 0.75, co2e_ug: 9_007_199_254_000 + 14_000, estimated_requests: 1 }));
      const read = await store.listRequests({ from: base, to: base + 3 });
      assert.deepEqual(read.map((item) => [item.energy_wh, item.co2e_ug, item.usage_estimated]), [[0.25, 14_000, true], [0.5, 9_007_199_254_000, false], [null, null, false]]);
      assert.ok((await store.deleteRequestsBefore(base + 3)) >= 3);
    });

    test('spendSince sums a key’s or a team’s cost from a point in time', async () => {
      const base = T0 + 300 * DAY;
      await store.insertRequests([
        request('s-1', { ts: base - 1, key_id: 'sk', team_id: 'st', cost_nanos: 1_000_000 }),
        request('s-2', { ts: base, key_id: 'sk', team_id: 'st', cost_nanos: 2_000_000_000_000 }),
        request('s-3', { ts: base + 1, key_id: 'sk2', team_id: 'st', cost_nanos: 3 }),
      ]);
      assert.equal(await store.spendSince('key', 'sk', base), 2_000_000_000_000);
      assert.equal(await store.spendSince('key', 'sk', base - 1), 2_000_001_000_000);
      assert.equal(await store.spendSince('team', 'st', base), 2_000_000_000_003);
      assert.equal(await store.spendSince('key', 'nobody', 0), 0);
    });

    test('deleteRequestsBefore and retention delete old rows only, in chunks', async () => {
      const base = T0 + 400 * DAY;
      const old = Array.from({ length: 6_001 }, (_, index) => request(`old-${index}`, { ts: base - DAY - 1 - index }));
      await store.insertRequests([...old, request('edge', { ts: base - DAY }), request('young', { ts: base })]);
      // Rows of earlier tests are older still and go too.
      const expected = (await store.listRequests({ to: base - DAY, limit: 1_000_000 })).length;
      assert.ok(expected >= 6_001);
      const retention = startRetention(store, 1, 60_000, { now: () => base });
      try {
        assert.equal(await retention.runNow(), expected);
      } finally {
        retention.stop();
      }
      assert.deepEqual((await store.listRequests({ from: base - 10 * DAY, to: base + 1 })).map((row) => row.id), ['edge', 'young']);
      assert.equal(await store.deleteRequestsBefore(base - DAY), 0);
      assert.equal(await store.deleteRequestsBefore(base + 1), 2);
    });

    test('migrations applied again are a no-op; a newer schema from a rolling deploy is accepted', async () => {
      const before = await store.listKeys();
      await store.migrate();
      await store.migrate();
      assert.deepEqual(await store.appliedMigrations(), MIGRATIONS);
      assert.deepEqual(await store.listKeys(), before);

      const migrations = store.db as unknown as import('kysely').Kysely<Record<string, { name: string; timestamp: string }>>;
      // Kysely orders applied migrations by timestamp: put 0001 back with its own.
      const original = await migrations.selectFrom(MIGRATION_TABLE).select('timestamp').where('name', '=', '0001_governance').executeTakeFirstOrThrow();
      await migrations.insertInto(MIGRATION_TABLE).values({ name: '9999_from_the_future', timestamp: new Date().toISOString() }).execute();
      try {
        await store.migrate();
        // Newer migrations, and one of this version's own missing: that database is not for us.
        await migrations.deleteFrom(MIGRATION_TABLE).where('name', '=', '0001_governance').execute();
        await assert.rejects(store.migrate(), /does not know.*lacks 0001_governance/);
      } finally {
        await migrations.deleteFrom(MIGRATION_TABLE).where('name', '=', '9999_from_the_future').execute();
        await migrations
          .insertInto(MIGRATION_TABLE)
          .values({ name: '0001_governance', timestamp: original.timestamp })
          .onConflict((conflict) => conflict.column('name').doNothing())
          .execute();
      }
      assert.deepEqual(await store.appliedMigrations(), MIGRATIONS);
      await store.migrate();
    });
  });
}
