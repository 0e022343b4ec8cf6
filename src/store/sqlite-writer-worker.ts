/**
 * A worker thread that owns its own connection to the SQLite file and writes request-log
 * batches. better-sqlite3 is synchronous: a batch written on the main thread stops every
 * request for the time of the insert and of the WAL checkpoint at commit (tens of ms). Here it
 * stops only this thread. Rows arrive already converted to column values.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface Batch {
  readonly id: number;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const database = new Database(path, { timeout: busyTimeoutMs });
database.pragma('journal_mode = WAL');
database.pragma('synchronous = NORMAL');
const statements = new Map<string, Database.Statement>();

function statementFor(columns: readonly string[]): Database.Statement {
  const key = columns.join(',');
  let statement = statements.get(key);
  if (statement === undefined) {
    const names = columns.map((column) => `"${column}"`).join(', ');
    const marks = columns.map(() => '?').join(', ');
    statement = database.prepare(`INSERT INTO requests (${names}) VALUES (${marks}) ON CONFLICT (id) DO NOTHING`);
    statements.set(key, statement);
  }
  return statement;
}

const insertBatch = database.transaction((batch: Batch) => {
  const statement = statementFor(batch.columns);
  let inserted = 0;
  for (const row of batch.rows) inserted += statement.run(...row).changes;
  return inserted;
});

parentPort!.on('message', (batch: Batch | 'close') => {
  if (batch === 'close') {
    database.close();
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ id: batch.id, inserted: insertBatch(batch) });
  } catch (error) {
    parentPort!.postMessage({ id: batch.id, error: (error as Error).message });
  }
});
