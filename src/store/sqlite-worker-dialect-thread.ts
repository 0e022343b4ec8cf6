/**
 * The thread behind SqliteWorkerDialect (sqlite-worker-dialect.ts): it owns the store's
 * better-sqlite3 connection and runs the statements Kysely compiled on the main thread, one at
 * a time in arrival order, so that a long query (a month of stats, a search over a million rows)
 * stops this thread and not the gateway's event loop. It does with a statement exactly what
 * Kysely's own SqliteDriver does: readers (SELECT, RETURNING, most PRAGMAs) answer their rows,
 * others the changes and the last rowid.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ThreadReply, ThreadRequest, ThreadSetup } from './sqlite-worker-dialect.js';

/** Prepared statements kept per SQL text: Kysely compiles the same few shapes again and again. */
const STATEMENT_CACHE = 256;

const port = parentPort!;
const setup = workerData as ThreadSetup;

function errorReply(id: number, error: unknown): ThreadReply {
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  // SQLite's message and code only: neither holds bound values.
  return {
    id,
    error: {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? message : String(error),
      code: typeof code === 'string' ? code : null,
    },
  };
}

/** A structured clone turns a Buffer into a plain Uint8Array, which better-sqlite3 does not bind as a blob. */
function bindable(parameters: readonly unknown[]): unknown[] {
  return parameters.map((value) =>
    value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value,
  );
}

function serve(database: Database.Database): void {
  const statements = new Map<string, Database.Statement>();

  const prepare = (text: string): Database.Statement => {
    let statement = statements.get(text);
    if (statement !== undefined) {
      // Most recently used last, so that the least recently used is the first to go.
      statements.delete(text);
    } else {
      // SQLite prepares a cached statement again by itself when the schema changed.
      statement = database.prepare(text);
      if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
    }
    statements.set(text, statement);
    return statement;
  };

  const run = (request: ThreadRequest): ThreadReply => {
    const statement = prepare(request.sql);
    const parameters = bindable(request.parameters);
    if (statement.reader) return { id: request.id, rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { id: request.id, changes, lastInsertRowid };
  };

  port.on('message', (request: ThreadRequest | 'close') => {
    if (request === 'close') {
      database.close();
      port.close();
      return;
    }
    let reply: ThreadReply;
    try {
      reply = run(request);
    } catch (error) {
      reply = errorReply(request.id, error);
    }
    port.postMessage(reply);
  });
  // Reply 0 answers the start: the connection is open and set up.
  port.postMessage({ id: 0 } satisfies ThreadReply);
}

let database: Database.Database | null = null;
try {
  database = new Database(setup.path, { timeout: setup.busyTimeoutMs });
  for (const pragma of setup.pragmas) database.pragma(pragma);
} catch (error) {
  database?.close();
  database = null;
  // Closing the port ends the thread once the reply is out.
  port.postMessage(errorReply(0, error));
  port.close();
}
if (database !== null) serve(database);
