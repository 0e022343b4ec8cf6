import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AuditEntriesTable, AuditCheckpointsTable, SqlDialectName, StoreSchema } from '../store/schema.js';
import { insertRequestRows } from '../store/sql-store.js';
import type { GovernanceStore, RequestRow } from '../store/types.js';
import { EMPTY_HEAD, freshEvents, newCheckpoint, planAppend, requestEvent, type AppendOptions, type AuditEntryRow, type ChainHead } from './chain.js';
import { recordsetInsert, type PostgresType } from '../store/recordset-insert.js';
import type { AuditCheckpoint, AuditEntry, AuditEvent, AuditKind } from './types.js';

export type { AppendOptions, ChainHead } from './chain.js';

/** Rows per INSERT: 10 parameters each, far below both databases' limits. */
const INSERT_CHUNK = 300;

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  readonly from?: number | null;
  /** Epoch ms, exclusive. */
  readonly to?: number | null;
  /** An exact kind (`key.created`) or a group (`key`: every `key.*`). */
  readonly kind?: string | null;
  /** Only this team's entries. */
  readonly teamId?: string | null;
  /** Entries with a smaller seq (the cursor of the page before). */
  readonly beforeSeq?: number | null;
  readonly limit: number;
}

type Db = Kysely<StoreSchema> | Transaction<StoreSchema>;

/** The audit_entries columns as Postgres types them, for the one-statement batch insert. */
const ENTRY_COLUMN_TYPES: Record<keyof AuditEntryRow, PostgresType> = {
  seq: 'bigint',
  id: 'text',
  ts: 'bigint',
  kind: 'text',
  actor: 'text',
  team_id: 'text',
  subject: 'text',
  data: 'text',
  prev_hash: 'text',
  hash: 'text',
};

/**
 * The audit log in the governance store. Appends are serialised across every process that
 * writes to the same database, so that the chain never forks: on Postgres by a transaction-scoped
 * advisory lock held while the head is read and the new entries inserted; on SQLite by an
 * IMMEDIATE transaction (the database's write lock, taken before the head is read). Nothing
 * here updates or deletes an entry.
 */
export class AuditStore {
  constructor(
    readonly db: Kysely<StoreSchema>,
    readonly dialect: SqlDialectName,
  ) {}

  /**
   * Appends the events in order, skipping any whose id is in the log already (a retried batch),
   * and writes a checkpoint when one is due. Resolves to the entries appended.
   */
  async append(events: readonly AuditEvent[], options: AppendOptions): Promise<AuditEntry[]> {
    if (events.length === 0) return [];
    const { rows, fresh } = await this.exclusive((db) => this.appendWithin(db, events, options));
    return rows.map((row, index) => ({ ...fresh[index]!, seq: row.seq, prev_hash: row.prev_hash, hash: row.hash }));
  }

  /**
   * Request rows and their entries (chain.ts requestEvent) in one transaction under the append
   * lock: both are written or neither. A retried batch inserts no row and appends no entry twice.
   * This is the request log's sink where no writer thread is (Postgres, SQLite in memory).
   */
  async insertRequests(rows: readonly RequestRow[], options: AppendOptions): Promise<void> {
    if (rows.length === 0) return;
    await this.exclusive(async (db) => {
      await insertRequestRows(db, rows, this.dialect);
      await this.appendWithin(db, rows.map(requestEvent), options);
    });
  }

  /** insertRequests with fixed options, in the shape the request writer takes. */
  requestSink(options: AppendOptions): Pick<GovernanceStore, 'insertRequests'> {
    return { insertRequests: (rows) => this.insertRequests(rows, options) };
  }

  /** The append itself; `db` holds the append lock (see exclusive), so the head read here is final. */
  private async appendWithin(db: Db, events: readonly AuditEvent[], options: AppendOptions): Promise<{ rows: AuditEntryRow[]; fresh: AuditEvent[] }> {
    const known = await this.knownIds(db, events);
    const fresh = freshEvents(events, (id) => known.has(id));
    if (fresh.length === 0) return { rows: [], fresh };
    const plan = planAppend(await this.headOf(db), fresh, await this.lastCheckpointOf(db), options);
    if (this.dialect === 'postgres') await recordsetInsert(db, 'audit_entries', ENTRY_COLUMN_TYPES, plan.rows, null);
    else {
      for (let start = 0; start < plan.rows.length; start += INSERT_CHUNK) {
        await db.insertInto('audit_entries').values(plan.rows.slice(start, start + INSERT_CHUNK)).execute();
      }
    }
    if (plan.checkpoint !== null) await this.insertCheckpoint(db, plan.checkpoint);
    return { rows: plan.rows, fresh };
  }

  /** Marks the head with a checkpoint unless the last one marks it already; the checkpoint, or null. */
  async checkpoint(secret: string | null): Promise<AuditCheckpoint | null> {
    // A look without the lock first: usually the head is marked already (the appends write
    // checkpoints too), and on SQLite taking the write lock from the main thread means waiting,
    // synchronously, for the writer thread's batch.
    if (!needsCheckpoint(await this.headOf(this.db), await this.lastCheckpointOf(this.db))) return null;
    return this.exclusive(async (db) => {
      const head = await this.headOf(db);
      if (!needsCheckpoint(head, await this.lastCheckpointOf(db))) return null;
      const checkpoint = newCheckpoint(head, secret);
      await this.insertCheckpoint(db, checkpoint);
      return checkpoint;
    });
  }

  head(): Promise<ChainHead> {
    return this.headOf(this.db);
  }

  lastCheckpoint(): Promise<AuditCheckpoint | null> {
    return this.lastCheckpointOf(this.db);
  }

  /** Entries with seq > `afterSeq`, in chain order. */
  async entriesAfter(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.selectFrom('audit_entries').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map(rowToEntry);
  }

  /** Checkpoints with seq > `afterSeq`, in order. */
  async checkpointsAfter(afterSeq: number, limit: number): Promise<AuditCheckpoint[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map(rowToCheckpoint);
  }

  async entryAt(seq: number): Promise<AuditEntry | null> {
    const row = await this.db.selectFrom('audit_entries').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row === undefined ? null : rowToEntry(row);
  }

  /** A page of entries, newest first. */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    let select = this.db.selectFrom('audit_entries').selectAll();
    if (query.from !== undefined && query.from !== null) select = select.where('ts', '>=', Math.ceil(query.from));
    if (query.to !== undefined && query.to !== null) select = select.where('ts', '<', Math.ceil(query.to));
    if (query.teamId !== undefined && query.teamId !== null) select = select.where('team_id', '=', query.teamId);
    if (query.beforeSeq !== undefined && query.beforeSeq !== null) select = select.where('seq', '<', query.beforeSeq);
    const kind = query.kind;
    if (kind !== undefined && kind !== null) select = select.where((eb) => eb.or([eb('kind', '=', kind), eb('kind', 'like', `${kind}.%`)]));
    const rows = await select.orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map(rowToEntry);
  }

  /** Entries whose time is in [from, to), in chain order, page by page (for the export). */
  async *range(from: number | null, to: number | null, pageSize = 1_000): AsyncGenerator<AuditEntry> {
    let after = 0;
    for (;;) {
      let select = this.db.selectFrom('audit_entries').selectAll().where('seq', '>', after);
      if (from !== null) select = select.where('ts', '>=', Math.ceil(from));
      if (to !== null) select = select.where('ts', '<', Math.ceil(to));
      const rows = await select.orderBy('seq').limit(pageSize).execute();
      for (const row of rows) yield rowToEntry(row);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  /** Runs `work` holding the log's append lock, in one transaction. */
  private async exclusive<T>(work: (db: Db) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') {
      return this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('stellwerk.audit'))`.execute(trx);
        return work(trx);
      });
    }
    // Kysely's transaction() says BEGIN (deferred): two processes could both read the head before
    // either writes. BEGIN IMMEDIATE takes the write lock first.
    return this.db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    });
  }

  /** The ids among `events` that are in the log already. */
  private async knownIds(db: Db, events: readonly AuditEvent[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (let start = 0; start < events.length; start += INSERT_CHUNK) {
      const ids = events.slice(start, start + INSERT_CHUNK).map((event) => event.id);
      const rows = await db.selectFrom('audit_entries').select('id').where('id', 'in', ids).execute();
      for (const row of rows) known.add(row.id);
    }
    return known;
  }

  private async headOf(db: Db): Promise<ChainHead> {
    const row = await db.selectFrom('audit_entries').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? EMPTY_HEAD : { seq: Number(row.seq), hash: row.hash };
  }

  private async lastCheckpointOf(db: Db): Promise<AuditCheckpoint | null> {
    const row = await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? null : rowToCheckpoint(row);
  }

  private async insertCheckpoint(db: Db, checkpoint: AuditCheckpoint): Promise<void> {
    await db.insertInto('audit_checkpoints').values(checkpoint).onConflict((conflict) => conflict.column('seq').doNothing()).execute();
  }
}

function needsCheckpoint(head: ChainHead, last: AuditCheckpoint | null): boolean {
  return head.seq > 0 && (last === null || last.seq < head.seq);
}

/**
 * An entry as stored. `data` that is not JSON any more (tampered with) reads as a string, so that
 * verification reports a hash mismatch at that seq rather than failing to read the page.
 */
export function rowToEntry(row: Selectable<AuditEntriesTable>): AuditEntry {
  let data: AuditEntry['data'];
  try {
    data = JSON.parse(row.data) as AuditEntry['data'];
  } catch {
    data = { unreadable: row.data };
  }
  return {
    seq: Number(row.seq),
    id: row.id,
    ts: Number(row.ts),
    kind: row.kind as AuditKind,
    actor: row.actor,
    team_id: row.team_id,
    subject: row.subject,
    data,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

function rowToCheckpoint(row: Selectable<AuditCheckpointsTable>): AuditCheckpoint {
  return { seq: Number(row.seq), hash: row.hash, ts: Number(row.ts), signature: row.signature };
}
