/**
 * A worker thread that owns its own connection to the SQLite file and writes request-log
 * batches, and with them the requests' audit entries. better-sqlite3 is synchronous: a batch
 * written on the main thread stops every request for the time of the insert and of the WAL
 * checkpoint at commit (tens of ms), and chaining the entries (canonical JSON, SHA-256) costs
 * per request too. Here it stops only this thread.
 *
 * One batch is one IMMEDIATE transaction: the write lock is taken first, then the rows are
 * inserted, the chain's head and last checkpoint are read and the entries appended after it by
 * the same rules as on the main thread (src/audit/chain.ts). Rows and entries commit together or
 * not at all; a retried batch skips rows and entries whose id exists. Admin actions appended by
 * the main thread's connection take the same write lock (BEGIN IMMEDIATE), so the chain is one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { EMPTY_HEAD, freshEvents, planAppend, requestEvent, type AppendOptions, type ChainHead } from '../audit/chain.js';
import type { AuditCheckpoint } from '../audit/types.js';
import { requestToRow } from './rows.js';
import type { RequestRow } from './types.js';
import { wireToRow } from './row-wire.js';
import { lowerThisThread } from './thread-priority.js';
import type { WriterThreadAnswer, WriterThreadBase, WriterThreadBatch } from './writer-thread.js';

export interface SqliteWriterData {
  readonly path: string;
  readonly busyTimeoutMs: number;
  /** Append each row's audit entry with it; null: the audit log is off. Holds the HMAC secret. */
  readonly audit: AppendOptions | null;
}

const { path, busyTimeoutMs, audit, priority } = workerData as SqliteWriterData & WriterThreadBase;
if (priority === 'background') lowerThisThread();
const database = new Database(path, { timeout: busyTimeoutMs });
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');

const requestStatements = new Map<string, Database.Statement>();

function insertRequestStatement(columns: readonly string[]): Database.Statement {
  const key = columns.join(',');
  let statement = requestStatements.get(key);
  if (statement === undefined) {
    const names = columns.map((column) => `"${column}"`).join(', ');
    const marks = columns.map(() => '?').join(', ');
    statement = database.prepare(`INSERT INTO requests (${names}) VALUES (${marks}) ON CONFLICT (id) DO NOTHING`);
    requestStatements.set(key, statement);
  }
  return statement;
}

/** The audit tables, the same reads and writes as AuditStore's (src/audit/audit-store.ts). */
const chain =
  audit === null
    ? null
    : {
        head: database.prepare<[], ChainHead>('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1'),
        lastCheckpoint: database.prepare<[], Pick<AuditCheckpoint, 'seq' | 'ts'>>('SELECT seq, ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1'),
        known: database.prepare<[string], { n: number }>('SELECT 1 AS n FROM audit_entries WHERE id = ?').pluck(),
        // Bound by position: better-sqlite3 binds a list faster than it looks up named members.
        insertEntry: database.prepare('INSERT INTO audit_entries (seq, id, ts, kind, actor, team_id, subject, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
        insertCheckpoint: database.prepare('INSERT INTO audit_checkpoints (seq, hash, ts, signature) VALUES (@seq, @hash, @ts, @signature) ON CONFLICT (seq) DO NOTHING'),
      };

const writeBatch = database.transaction((rows: readonly RequestRow[]) => {
  let inserted = 0;
  let columns: string[] | null = null;
  let statement: Database.Statement | null = null;
  // Rows this transaction added. A row and its entry are only ever written together, here, so
  // a row that was new has no entry yet, and only a row that was there (a retried batch) needs
  // the look into the log.
  const added = new Set<string>();
  for (const row of rows) {
    // requestToRow makes every row with the same keys in the same order (none undefined), so
    // its values line up with the columns of the first.
    const values = requestToRow(row, 'sqlite');
    columns ??= Object.keys(values);
    statement ??= insertRequestStatement(columns);
    // As arguments rather than one array: better-sqlite3 reads an array's elements one by one
    // through V8's property lookup, arguments it takes as they are.
    const changes = statement.run(...Object.values(values)).changes;
    inserted += changes;
    if (changes > 0) added.add(row.id);
  }
  if (chain === null || audit === null) return { inserted, appended: 0 };
  const fresh = freshEvents(rows.map(requestEvent), (id) => !added.has(id) && chain.known.get(id) !== undefined);
  if (fresh.length === 0) return { inserted, appended: 0 };
  const plan = planAppend(chain.head.get() ?? EMPTY_HEAD, fresh, chain.lastCheckpoint.get() ?? null, audit);
  for (const row of plan.rows) {
    chain.insertEntry.run(row.seq, row.id, row.ts, row.kind, row.actor, row.team_id, row.subject, row.data, row.prev_hash, row.hash);
  }
  if (plan.checkpoint !== null) chain.insertCheckpoint.run(plan.checkpoint);
  return { inserted, appended: plan.rows.length };
});

parentPort!.on('message', (batch: WriterThreadBatch | 'close') => {
  if (batch === 'close') {
    database.close();
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ id: batch.id, ...writeBatch.immediate(batch.rows.map(wireToRow)) } satisfies WriterThreadAnswer);
  } catch (error) {
    // SQLite's message only (it never holds bound values, so neither rows nor the secret).
    parentPort!.postMessage({ id: batch.id, error: (error as Error).message } satisfies WriterThreadAnswer);
  }
});
