/**
 * A Kysely dialect for SQLite whose one connection lives in a worker thread
 * (sqlite-worker-dialect-thread.ts). better-sqlite3 is synchronous: on the main thread a search
 * over a million request rows, or a month of stats, stops every request in flight for as long as
 * it runs. Here the main thread compiles the query, posts its SQL and parameters, and awaits the
 * rows; the thread runs it. No library does this for Kysely and better-sqlite3 (Kysely's own
 * SqliteDialect runs in the calling thread), so it is written here, small, after the behaviour
 * of Kysely's SqliteDriver: one connection behind a mutex, so that a transaction's statements
 * never interleave with others'; the same result shape; errors with better-sqlite3's `code`.
 *
 * A thread that dies (out of memory, a bug in a native module) rejects the queries it had not
 * answered with a SqliteThreadStoppedError and is started again by the next query; a transaction
 * it had open is gone (SQLite rolls it back), so its later statements fail the same way rather
 * than run outside it.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  IdentifierNode,
  RawNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

export interface SqliteWorkerDialectConfig {
  /** The database file (`:memory:` works too, but then the thread holds the only connection to it). */
  readonly path: string;
  /** How long a writer waits for another connection's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Pragmas applied in order when the connection opens, e.g. `journal_mode = WAL`. */
  readonly pragmas?: readonly string[];
  /** The thread stopped unexpectedly (the next query starts a new one); for a log line. */
  readonly onThreadError?: (error: Error) => void;
  /** Heap limits of the thread (default: Node's); a query that exceeds them stops the thread, not the process. */
  readonly resourceLimits?: ResourceLimits;
}

/** What the thread is started with. */
export interface ThreadSetup {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly pragmas: readonly string[];
}

export interface ThreadRequest {
  readonly id: number;
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

export interface ThreadError {
  readonly name: string;
  readonly message: string;
  /** better-sqlite3's SQLITE_* code, kept so that callers can tell e.g. a unique violation. */
  readonly code: string | null;
}

/** The answer to request `id`; id 0 answers the thread's start. */
export interface ThreadReply {
  readonly id: number;
  /** A reader statement's rows. */
  readonly rows?: unknown[];
  readonly changes?: number;
  readonly lastInsertRowid?: number | bigint;
  readonly error?: ThreadError;
}

/** The query thread stopped before it answered, or the store was closed. */
export class SqliteThreadStoppedError extends Error {
  override readonly name = 'SqliteThreadStoppedError';
}

export class SqliteWorkerDialect implements Dialect {
  readonly #config: SqliteWorkerDialectConfig;

  constructor(config: SqliteWorkerDialectConfig) {
    this.#config = { ...config };
  }

  createDriver(): Driver {
    return new SqliteWorkerDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

interface Waiter {
  resolve(reply: ThreadReply): void;
  reject(error: Error): void;
}

/** An error from the thread as the error better-sqlite3 would have thrown here. */
function toError(error: ThreadError): Error {
  if (error.name === 'SqliteError' && error.code !== null) return new Database.SqliteError(error.message, error.code);
  const Type = error.name === 'TypeError' ? TypeError : error.name === 'RangeError' ? RangeError : Error;
  const result = new Type(error.message);
  if (error.code !== null) Object.assign(result, { code: error.code });
  return result;
}

/** One worker thread and the queries it has not answered yet. */
class QueryThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Waiter>();
  #nextId = 1;
  #stopped: Error | null = null;
  #closing = false;
  #started = false;
  readonly #exited: Promise<void>;
  /** Resolves once the connection is open and set up; rejects with why it could not be. */
  readonly ready: Promise<void>;

  constructor(setup: ThreadSetup, resourceLimits: ResourceLimits | undefined, onStop: (error: Error) => void) {
    const typescript = import.meta.url.endsWith('.ts');
    const entry = new URL(`./sqlite-worker-dialect-thread.${typescript ? 'ts' : 'js'}`, import.meta.url);
    // The built code runs as plain JS. Under tsx (tests, bench) the thread first registers tsx's
    // loader and then imports the TypeScript entry (Node 20 does not apply `--import tsx` in
    // execArgv to a worker's own entry file).
    this.#worker = typescript
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
          eval: true,
          workerData: setup,
          resourceLimits,
        })
      : new Worker(entry, { workerData: setup, resourceLimits });
    // Held open only while it owes an answer (see #track), so an idle store never keeps the process alive.
    this.#worker.unref();
    this.ready = new Promise<void>((resolve, reject) => this.#track(0, { resolve: () => resolve(), reject }));
    this.#worker.on('message', (reply: ThreadReply) => {
      const waiter = this.#pending.get(reply.id);
      if (waiter === undefined) return;
      this.#untrack(reply.id);
      if (reply.error === undefined) {
        if (reply.id === 0) this.#started = true;
        waiter.resolve(reply);
        return;
      }
      const error = toError(reply.error);
      // The connection could not be opened: the thread ends, and this is why.
      if (reply.id === 0) this.#stopped ??= error;
      waiter.reject(error);
    });
    this.#worker.on('error', (error) => this.#stop(new SqliteThreadStoppedError(`the SQLite query thread failed: ${error.message}`, { cause: error })));
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        const unexpected = !this.#closing && this.#started;
        this.#stop(
          this.#closing
            ? new SqliteThreadStoppedError('the SQLite store is closed')
            : new SqliteThreadStoppedError(`the SQLite query thread stopped (exit code ${code})`),
        );
        // A thread that never started has told the query that started it already.
        if (unexpected) onStop(this.#stopped!);
        resolve();
      });
    });
  }

  /** Why the thread is gone; null while it runs. */
  get stopped(): Error | null {
    return this.#stopped;
  }

  run(sql: string, parameters: readonly unknown[]): Promise<ThreadReply> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#track(id, { resolve, reject });
      try {
        this.#worker.postMessage({ id, sql, parameters } satisfies ThreadRequest);
      } catch (error) {
        // A parameter that cannot be cloned (a function, a symbol): never sent.
        this.#untrack(id);
        reject(error as Error);
      }
    });
  }

  /** Lets the queries already sent finish, closes the connection and ends the thread. */
  async close(): Promise<void> {
    if (this.#stopped === null && !this.#closing) {
      this.#closing = true;
      this.#worker.ref();
      this.#worker.postMessage('close');
    }
    await this.#exited;
  }

  #track(id: number, waiter: Waiter): void {
    if (this.#pending.size === 0) this.#worker.ref();
    this.#pending.set(id, waiter);
  }

  #untrack(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
  }

  #stop(reason: Error): void {
    this.#stopped ??= reason;
    const waiters = [...this.#pending.values()];
    this.#pending.clear();
    for (const waiter of waiters) waiter.reject(this.#stopped);
  }
}

/** The one connection, bound to the thread that was running when it was acquired. */
class WorkerConnection implements DatabaseConnection {
  readonly #thread: QueryThread;

  constructor(thread: QueryThread) {
    this.#thread = thread;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const reply = await this.#thread.run(compiledQuery.sql, compiledQuery.parameters);
    if (reply.rows !== undefined) return { rows: reply.rows as R[] };
    const { changes, lastInsertRowid } = reply;
    return {
      numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
      insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
      rows: [],
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    // Nothing in Stellwerk streams; rows would have to come over in chunks with back-pressure.
    throw new Error('the SQLite worker dialect does not stream query results; use execute()');
  }
}

/** Kysely's mutex idea: SQLite has one connection, so whoever holds it waits for the others to release it. */
class ConnectionMutex {
  #held: Promise<void> | null = null;
  #release: (() => void) | null = null;

  async lock(): Promise<void> {
    while (this.#held !== null) await this.#held;
    this.#held = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  unlock(): void {
    const release = this.#release;
    this.#held = null;
    this.#release = null;
    release?.();
  }
}

class SqliteWorkerDriver implements Driver {
  readonly #config: SqliteWorkerDialectConfig;
  readonly #mutex = new ConnectionMutex();
  #thread: QueryThread | null = null;
  #destroyed = false;

  constructor(config: SqliteWorkerDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    await this.#mutex.lock();
    try {
      await this.#running();
    } finally {
      this.#mutex.unlock();
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    try {
      return new WorkerConnection(await this.#running());
    } catch (error) {
      this.#mutex.unlock();
      throw error;
    }
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('release', name), createQueryId()));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#thread?.close();
  }

  /** The running thread; a new one if there is none or it stopped. Called holding the mutex. */
  async #running(): Promise<QueryThread> {
    if (this.#destroyed) throw new SqliteThreadStoppedError('the SQLite store is closed');
    if (this.#thread !== null && this.#thread.stopped === null) return this.#thread;
    const setup: ThreadSetup = {
      path: this.#config.path,
      busyTimeoutMs: this.#config.busyTimeoutMs ?? 5_000,
      pragmas: this.#config.pragmas ?? [],
    };
    const thread = new QueryThread(setup, this.#config.resourceLimits, (error) => this.#config.onThreadError?.(error));
    this.#thread = thread;
    await thread.ready;
    return thread;
  }
}

function savepointCommand(command: string, name: string): RawNode {
  // The identifier node has the compiler quote the name, as Kysely's own drivers do.
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}
