import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialectName } from './schema.js';

/**
 * The schema's history, in code, run by Kysely's Migrator (see SqlGovernanceStore.migrate).
 * Rules for adding one: a new entry with the next number, never edit an applied one, and keep
 * it additive (new tables, nullable or defaulted columns, indexes; dropping a redundant index is
 * fine too), because during a rolling deploy replicas of the previous version keep running
 * against the migrated schema.
 *
 * The same migrations serve both databases; the only difference is the JSON column type
 * (JSONB on Postgres, TEXT holding JSON on SQLite). The other types read the same on both:
 * `bigint` has INTEGER affinity on SQLite, `double precision` REAL, `boolean` NUMERIC.
 */
export function storeMigrations(dialect: SqlDialectName): Record<string, Migration> {
  const json = dialect === 'postgres' ? sql`jsonb` : sql`text`;

  return {
    '0001_governance': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('teams')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('models', json)
          .addColumn('metadata', json, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('rpm', 'integer')
          .addColumn('tpm', 'integer')
          .addColumn('max_parallel', 'integer')
          .addColumn('budget', 'double precision')
          .addColumn('budget_period', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('team_id', 'text')
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('models', json)
          .addColumn('expires_at', 'bigint')
          .addColumn('metadata', json, (c) => c.notNull())
          .addColumn('data_policy', json)
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('rpm', 'integer')
          .addColumn('tpm', 'integer')
          .addColumn('max_parallel', 'integer')
          .addColumn('budget', 'double precision')
          .addColumn('budget_period', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('previous_hash', 'text')
          .addColumn('previous_expires_at', 'bigint')
          .execute();
        await db.schema.createIndex('keys_hash_unique').unique().on('keys').column('hash').execute();
        await db.schema.createIndex('keys_previous_hash').on('keys').column('previous_hash').execute();
        await db.schema.createIndex('keys_team_id').on('keys').column('team_id').execute();

        await db.schema
          .createTable('requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('key_id', 'text')
          .addColumn('team_id', 'text')
          .addColumn('alias', 'text')
          .addColumn('deployment', 'text')
          .addColumn('endpoint', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('stream', 'boolean', (c) => c.notNull())
          .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
          .addColumn('completion_tokens', 'integer', (c) => c.notNull())
          .addColumn('cost_nanos', 'bigint', (c) => c.notNull())
          .addColumn('latency_ms', 'integer', (c) => c.notNull())
          .addColumn('ttft_ms', 'integer')
          .addColumn('error_code', 'text')
          .execute();
        // The usage report filters on a time range, grouped or filtered by one of these columns.
        await db.schema.createIndex('requests_ts').on('requests').column('ts').execute();
        await db.schema.createIndex('requests_key_ts').on('requests').columns(['key_id', 'ts']).execute();
        await db.schema.createIndex('requests_team_ts').on('requests').columns(['team_id', 'ts']).execute();
        await db.schema.createIndex('requests_alias_ts').on('requests').columns(['alias', 'ts']).execute();
      },
    },

    // Accounting: energy (Wh, estimated), emissions (µg CO₂e, whole so that sums are exact) and
    // whether the usage was counted by the gateway. Nullable or defaulted: additive.
    '0002_request_accounting': {
      async up(db: Kysely<any>): Promise<void> {
        // Column by column and only when missing: SQLite has no migration lock, and two
        // processes starting on one new file may both get here (see SqlGovernanceStore.migrate).
        const requests = (await db.introspection.getTables()).find((table) => table.name === 'requests');
        const has = (name: string) => requests?.columns.some((column) => column.name === name) === true;
        if (!has('energy_wh')) await db.schema.alterTable('requests').addColumn('energy_wh', 'double precision').execute();
        if (!has('co2e_ug')) await db.schema.alterTable('requests').addColumn('co2e_ug', 'bigint').execute();
        if (!has('usage_estimated')) {
          await db.schema
            .alterTable('requests')
            .addColumn('usage_estimated', 'boolean', (c) => c.notNull().defaultTo(dialect === 'postgres' ? sql`false` : sql`0`))
            .execute();
        }
      },
    },

    // The audit log (src/audit, docs/audit.md): a hash-chained, append-only list of entries and
    // its signed checkpoints; request bodies kept under a `log_bodies` policy; the region and PII
    // types of each request; a team's own data policy. Only new tables and nullable columns.
    '0003_audit': {
      async up(db: Kysely<any>): Promise<void> {
        const tables = await db.introspection.getTables();
        const columnsOf = (table: string) => tables.find((item) => item.name === table)?.columns.map((column) => column.name) ?? [];
        const requests = columnsOf('requests');
        if (!requests.includes('region')) await db.schema.alterTable('requests').addColumn('region', 'text').execute();
        if (!requests.includes('pii_types')) await db.schema.alterTable('requests').addColumn('pii_types', json).execute();
        if (!columnsOf('teams').includes('data_policy')) await db.schema.alterTable('teams').addColumn('data_policy', json).execute();

        // `data` is the canonical JSON text the hash covers, so it is text on both databases.
        await db.schema
          .createTable('audit_entries')
          .ifNotExists()
          .addColumn('seq', 'bigint', (c) => c.primaryKey())
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('actor', 'text')
          .addColumn('team_id', 'text')
          .addColumn('subject', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_entries_ts').ifNotExists().on('audit_entries').column('ts').execute();
        await db.schema.createIndex('audit_entries_team_seq').ifNotExists().on('audit_entries').columns(['team_id', 'seq']).execute();

        await db.schema
          .createTable('audit_checkpoints')
          .ifNotExists()
          .addColumn('seq', 'bigint', (c) => c.primaryKey())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('signature', 'text')
          .execute();

        await db.schema
          .createTable('request_bodies')
          .ifNotExists()
          .addColumn('request_id', 'text', (c) => c.primaryKey())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('team_id', 'text')
          .addColumn('prompt', json, (c) => c.notNull())
          .addColumn('completion', 'text')
          .execute();
        await db.schema.createIndex('request_bodies_ts').ifNotExists().on('request_bodies').column('ts').execute();
      },
    },

    // The searchable request log (src/store/request-log.ts, docs/observability.md): each
    // request's attempts, and indexes so that one filter plus a time range, newest first in
    // (ts, id) order, reads an index range instead of the table. A nullable column and indexes only.
    '0004_request_log': {
      async up(db: Kysely<any>): Promise<void> {
        const requests = (await db.introspection.getTables()).find((table) => table.name === 'requests');
        if (!requests?.columns.some((column) => column.name === 'attempts')) {
          await db.schema.alterTable('requests').addColumn('attempts', json).execute();
        }
        await db.schema.createIndex('requests_ts_id').ifNotExists().on('requests').columns(['ts', 'id']).execute();
        await db.schema.createIndex('requests_deployment_ts').ifNotExists().on('requests').columns(['deployment', 'ts']).execute();
        await db.schema.createIndex('requests_status_ts').ifNotExists().on('requests').columns(['status', 'ts']).execute();
      },
    },

    // requests_ts is a prefix of requests_ts_id (0004), which serves every query it served; one
    // index fewer to write per logged request. Dropping an index changes no query's result, so
    // replicas of the previous version run on unchanged.
    '0005_drop_requests_ts': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema.dropIndex('requests_ts').ifExists().execute();
      },
    },
  };
}

export function storeMigrationProvider(dialect: SqlDialectName): MigrationProvider {
  return { getMigrations: async () => storeMigrations(dialect) };
}

/** Where the applied migrations are recorded (names chosen so as not to meet another Kysely app's). */
export const MIGRATION_TABLE = 'stellwerk_migrations';
export const MIGRATION_LOCK_TABLE = 'stellwerk_migrations_lock';
