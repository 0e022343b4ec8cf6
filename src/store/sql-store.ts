import { Migrator, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { KeyRecord, TeamRecord } from '../guard/types.js';
import { StoreConflictError, isUniqueViolation } from './errors.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, storeMigrationProvider, storeMigrations } from './migrations.js';
import { keyToRow, requestToRow, rowToKey, rowToRequest, rowToTeam, teamToRow } from './rows.js';
import type { RequestsTable, SqlDialectName, StoreSchema } from './schema.js';
import { recordsetInsert, type PostgresType } from './recordset-insert.js';
import { getRequest, searchRequests, type RequestLogPage, type RequestLogQuery } from './request-log.js';
import type { GovernanceStore, RequestRow, UsageGroup, UsageQuery, UsageRow } from './types.js';
import { mapPacked } from '../core/packed.js';

/** Rows per INSERT statement: 18 parameters each stays far below SQLite's and Postgres's limits. */
const INSERT_CHUNK = 500;
/** Rows per DELETE statement, so that retention never holds SQLite's write lock for long. */
const DELETE_CHUNK = 5_000;
const DAY_MS = 86_400_000;

const GROUP_COLUMNS: Record<UsageGroup, RawBuilder<unknown>> = {
  key: sql`key_id`,
  team: sql`team_id`,
  alias: sql`alias`,
  deployment: sql`deployment`,
  // Whole UTC days since the epoch, the same integer division on both databases; formatted below.
  day: sql`ts / ${sql.lit(DAY_MS)}`,
};

export interface SqlStoreInfo {
  /** Where the data lives, for logs: a file path, `:memory:`, or the Postgres URL without password. */
  readonly location: string;
  /** The Postgres connection string (with credentials, never log it), for LISTEN/NOTIFY; null on SQLite. */
  readonly connectionString: string | null;
}

/**
 * Inserts request rows through `db`, inside a transaction of the caller's (the store's own, or
 * the audit log's, which appends the rows' entries in the same one); rows whose id exists are
 * skipped. Resolves to the number inserted.
 */
export async function insertRequestRows(db: Kysely<StoreSchema> | Transaction<StoreSchema>, rows: readonly RequestRow[], dialect: SqlDialectName): Promise<number> {
  const values = mapPacked(rows, (row) => requestToRow(row, dialect));
  if (dialect === 'postgres') return recordsetInsert(db, 'requests', REQUEST_COLUMN_TYPES, values, 'id');
  let inserted = 0;
  for (let start = 0; start < values.length; start += INSERT_CHUNK) {
    const result = await db
      .insertInto('requests')
      .values(values.slice(start, start + INSERT_CHUNK))
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return inserted;
}

/** The requests table's columns as Postgres types them, for the one-statement batch insert. */
const REQUEST_COLUMN_TYPES: Record<keyof RequestsTable, PostgresType> = {
  id: 'text',
  ts: 'bigint',
  key_id: 'text',
  team_id: 'text',
  alias: 'text',
  deployment: 'text',
  endpoint: 'text',
  status: 'integer',
  stream: 'boolean',
  prompt_tokens: 'integer',
  completion_tokens: 'integer',
  cost_nanos: 'bigint',
  latency_ms: 'integer',
  ttft_ms: 'integer',
  error_code: 'text',
  energy_wh: 'double precision',
  co2e_ug: 'bigint',
  usage_estimated: 'boolean',
  region: 'text',
  pii_types: 'jsonb',
  attempts: 'jsonb',
};

/** Whole epoch milliseconds: a fractional bound would be rejected by Postgres's bigint. */
function bound(ms: number): number {
  return Math.ceil(ms);
}

function compareGroups(a: UsageRow, b: UsageRow): number {
  if (a.group === b.group) return 0;
  if (a.group === null) return 1;
  if (b.group === null) return -1;
  return a.group < b.group ? -1 : 1;
}

/** The GovernanceStore on SQLite or Postgres, through one Kysely query layer. */
export class SqlGovernanceStore implements GovernanceStore {
  readonly location: string;
  readonly connectionString: string | null;
  #closed = false;

  constructor(
    /** The query layer, for store extensions and tools (bench, tests); prefer the methods. */
    readonly db: Kysely<StoreSchema>,
    readonly kind: SqlDialectName,
    info: SqlStoreInfo,
  ) {
    this.location = info.location;
    this.connectionString = info.connectionString;
  }

  async migrate(): Promise<void> {
    const known = Object.keys(storeMigrations(this.kind));
    const applied = await this.appliedMigrations();
    // A newer replica of a rolling deploy may have applied migrations this version does not
    // know; they are additive by rule, so this version runs on as long as it has all of its own.
    if (applied.some((name) => !known.includes(name))) {
      const missing = known.filter((name) => !applied.includes(name));
      if (missing.length === 0) return;
      throw new Error(`the database has migrations this version does not know, and lacks ${missing.join(', ')}`);
    }
    const migrator = new Migrator({
      db: this.db,
      provider: storeMigrationProvider(this.kind),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    let result = await migrator.migrateToLatest();
    // Postgres serialises migrators with an advisory lock; SQLite has none, so a second process
    // starting at the same moment may lose the race, once per migration it meets the other
    // applying. Its retries then find nothing left to do.
    for (let retry = 0; retry < known.length && result.error !== undefined; retry++) result = await migrator.migrateToLatest();
    if (result.error !== undefined) {
      const message = result.error instanceof Error ? result.error.message : String(result.error);
      throw new Error(`store migration failed: ${message}`, { cause: result.error });
    }
  }

  /** Names of the applied migrations; empty before the first migration. */
  async appliedMigrations(): Promise<string[]> {
    const tables = await this.db.introspection.getTables({ withInternalKyselyTables: true });
    if (!tables.some((table) => table.name === MIGRATION_TABLE)) return [];
    const rows = await (this.db as unknown as Kysely<Record<string, { name: string }>>)
      .selectFrom(MIGRATION_TABLE)
      .select('name')
      .orderBy('name')
      .execute();
    return rows.map((row) => row.name);
  }

  async listKeys(): Promise<KeyRecord[]> {
    const rows = await this.db.selectFrom('keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToKey);
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    const row = await this.db.selectFrom('keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : rowToKey(row);
  }

  async insertKey(key: KeyRecord): Promise<void> {
    await this.unique('keys', () => this.db.insertInto('keys').values(keyToRow(key)).execute());
  }

  async updateKey(key: KeyRecord): Promise<boolean> {
    const { id, ...values } = keyToRow(key);
    const result = await this.unique('keys', () =>
      this.db.updateTable('keys').set(values).where('id', '=', id).executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async listTeams(): Promise<TeamRecord[]> {
    const rows = await this.db.selectFrom('teams').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToTeam);
  }

  async getTeam(id: string): Promise<TeamRecord | null> {
    const row = await this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : rowToTeam(row);
  }

  async insertTeam(team: TeamRecord): Promise<void> {
    await this.unique('teams', () => this.db.insertInto('teams').values(teamToRow(team)).execute());
  }

  async updateTeam(team: TeamRecord): Promise<boolean> {
    const { id, ...values } = teamToRow(team);
    const result = await this.db.updateTable('teams').set(values).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The team's keys keep existing with team_id null; their updated_at becomes now. */
  async deleteTeam(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('teams').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await trx.updateTable('keys').set({ team_id: null, updated_at: Date.now() }).where('team_id', '=', id).execute();
      return true;
    });
  }

  async insertRequests(rows: readonly RequestRow[]): Promise<void> {
    await this.insertRequestsCounted(rows);
  }

  /** insertRequests, resolving to the number of rows actually inserted (rows whose id existed are skipped). */
  async insertRequestsCounted(rows: readonly RequestRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.db.transaction().execute((trx) => insertRequestRows(trx, rows, this.kind));
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const group = GROUP_COLUMNS[query.groupBy];
    let select = this.db
      .selectFrom('requests')
      .select([
        group.as('grp'),
        sql<unknown>`count(*)`.as('requests'),
        sql<unknown>`coalesce(sum(prompt_tokens), 0)`.as('prompt_tokens'),
        sql<unknown>`coalesce(sum(completion_tokens), 0)`.as('completion_tokens'),
        sql<unknown>`coalesce(sum(cost_nanos), 0)`.as('cost_nanos'),
        sql<unknown>`coalesce(sum(energy_wh), 0)`.as('energy_wh'),
        sql<unknown>`coalesce(sum(co2e_ug), 0)`.as('co2e_ug'),
        sql<unknown>`coalesce(sum(case when usage_estimated then 1 else 0 end), 0)`.as('estimated_requests'),
      ]);
    if (query.from !== null) select = select.where('ts', '>=', bound(query.from));
    if (query.to !== null) select = select.where('ts', '<', bound(query.to));
    if (query.teamId !== undefined && query.teamId !== null) select = select.where('team_id', '=', query.teamId);
    const rows = await select.groupBy(group).execute();
    return rows
      .map((row) => ({
        group: row.grp === null ? null : query.groupBy === 'day' ? dayString(Number(row.grp)) : String(row.grp),
        requests: Number(row.requests),
        prompt_tokens: Number(row.prompt_tokens),
        completion_tokens: Number(row.completion_tokens),
        // Postgres sums bigint as numeric (a string here): exact while below 2^53 nanos (9M USD).
        cost_nanos: Number(row.cost_nanos),
        energy_wh: Number(row.energy_wh),
        co2e_ug: Number(row.co2e_ug),
        estimated_requests: Number(row.estimated_requests),
      }))
      .sort(compareGroups);
  }

  async spendSince(scope: 'key' | 'team', id: string, since: number): Promise<number> {
    const column = scope === 'key' ? 'key_id' : 'team_id';
    const row = await this.db
      .selectFrom('requests')
      .select(sql<unknown>`coalesce(sum(cost_nanos), 0)`.as('spend'))
      .where(column, '=', id)
      .where('ts', '>=', bound(since))
      .executeTakeFirstOrThrow();
    return Number(row.spend);
  }

  async deleteRequestsBefore(before: number): Promise<number> {
    // Kept bodies (log_bodies, src/audit/body-log.ts) go with their requests; counted apart.
    for (;;) {
      const result = await this.db
        .deleteFrom('request_bodies')
        .where('request_id', 'in', (eb) =>
          eb.selectFrom('request_bodies').select('request_id').where('ts', '<', bound(before)).limit(DELETE_CHUNK),
        )
        .executeTakeFirst();
      if (Number(result.numDeletedRows) < DELETE_CHUNK) break;
    }
    let total = 0;
    for (;;) {
      const result = await this.db
        .deleteFrom('requests')
        .where('id', 'in', (eb) =>
          eb.selectFrom('requests').select('id').where('ts', '<', bound(before)).limit(DELETE_CHUNK),
        )
        .executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      total += deleted;
      if (deleted < DELETE_CHUNK) return total;
    }
  }

  searchRequests(query: RequestLogQuery): Promise<RequestLogPage> {
    return searchRequests(this.db, query);
  }

  getRequest(id: string): Promise<RequestRow | null> {
    return getRequest(this.db, id);
  }

  /** Request rows in time order (for tools, tests and small reports; not for the hot path). */
  async listRequests(query: { from?: number | null; to?: number | null; limit?: number } = {}): Promise<RequestRow[]> {
    let select = this.db.selectFrom('requests').selectAll();
    if (query.from !== undefined && query.from !== null) select = select.where('ts', '>=', bound(query.from));
    if (query.to !== undefined && query.to !== null) select = select.where('ts', '<', bound(query.to));
    const rows = await select.orderBy('ts').orderBy('id').limit(query.limit ?? 10_000).execute();
    return rows.map(rowToRequest);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.destroy();
  }

  private async unique<T>(table: 'keys' | 'teams', write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError(table, { cause: error });
      throw error;
    }
  }
}

function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
