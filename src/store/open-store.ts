import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import type { StoreSchema } from './schema.js';
import { SqlGovernanceStore } from './sql-store.js';
import { SqliteWorkerDialect } from './sqlite-worker-dialect.js';

export const DEFAULT_SQLITE_PATH = './data/stellwerk.db';

export interface OpenStoreOptions {
  /**
   * The DATABASE_URL: `postgres://…` or `postgresql://…` selects Postgres; anything else is a
   * SQLite file (`sqlite:` or `file:` prefix optional; `:memory:` for tests). Empty or absent:
   * SQLite at ./data/stellwerk.db.
   */
  readonly url?: string | null;
  /** Apply pending migrations before returning (default true). */
  readonly migrate?: boolean;
  /** Postgres pool size (default 10). */
  readonly poolSize?: number;
  /** SQLite: how long a writer waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /**
   * A lost connection: an idle pooled Postgres connection's error (e.g. the server restarted), or
   * SQLite's query thread stopping. Default: ignored; the pool reconnects, the thread restarts.
   */
  readonly onPoolError?: (error: Error) => void;
  /**
   * SQLite files: where queries run. `worker` (default): in a worker thread, so that a long query
   * never stalls requests (sqlite-worker-dialect.ts). `main`: in the calling thread, with
   * Kysely's SqliteDialect; for comparison in benchmarks. `:memory:` always runs in the calling
   * thread (see createSqliteStore).
   */
  readonly sqliteThread?: 'worker' | 'main';
}

export type StoreTarget =
  | { readonly kind: 'postgres'; readonly connectionString: string }
  | { readonly kind: 'sqlite'; readonly path: string };

/** Which database a DATABASE_URL names (see OpenStoreOptions.url). */
export function parseStoreUrl(url: string | null | undefined): StoreTarget {
  const value = (url ?? '').trim();
  if (value === '') return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (/^postgres(ql)?:\/\//i.test(value)) return { kind: 'postgres', connectionString: value };
  if (value === ':memory:' || value === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' };
  if (/^file:/i.test(value)) return { kind: 'sqlite', path: fileURLToPath(value) };
  if (/^sqlite:/i.test(value)) return { kind: 'sqlite', path: value.replace(/^sqlite:(\/\/)?/i, '') };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (scheme) throw new Error(`DATABASE_URL: unsupported scheme "${scheme[1]}:" (use postgres://, or a SQLite file path)`);
  return { kind: 'sqlite', path: value };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

const INT8_OID = 20;

/**
 * pg returns int8 (bigint, count(*)) as a string so as not to lose precision; every int8 we
 * store (epoch ms, nano-USD) is within 2^53, so it is parsed to a number for this pool only.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPostgresStore(connectionString: string, options: OpenStoreOptions = {}): SqlGovernanceStore {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    types: pgTypes,
    application_name: 'stellwerk',
  });
  // Without a listener an idle connection's error (server restart) would crash the process.
  pool.on('error', (error) => options.onPoolError?.(error));
  const db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
  return new SqlGovernanceStore(db, 'postgres', { location: redactUrl(connectionString), connectionString });
}

/**
 * The pragmas of every SQLite connection of the store. WAL: readers never block the writer;
 * NORMAL: durable across process crashes, and only the last transactions may be lost on power
 * loss, which suits a request log.
 */
function sqlitePragmas(memory: boolean, busyTimeoutMs: number): string[] {
  return [...(memory ? [] : ['journal_mode = WAL']), 'synchronous = NORMAL', `busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`];
}

/**
 * A SQLite store. A file is queried from a worker thread (SqliteWorkerDialect), so that admin
 * searches, stats and reports never stall the requests in flight. `:memory:` is for tests and
 * stays in the calling thread with Kysely's SqliteDialect: an in-memory database belongs to one
 * connection, and tests reach it from the main thread too (and start many, where a thread each
 * would only cost time).
 */
export function createSqliteStore(path: string, options: OpenStoreOptions = {}): SqlGovernanceStore {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const pragmas = sqlitePragmas(memory, busyTimeoutMs);
  let dialect: Dialect;
  if (memory || options.sqliteThread === 'main') {
    const database = new Database(file, { timeout: busyTimeoutMs });
    for (const pragma of pragmas) database.pragma(pragma);
    dialect = new SqliteDialect({ database });
  } else {
    dialect = new SqliteWorkerDialect({ path: file, busyTimeoutMs, pragmas, onThreadError: options.onPoolError });
  }
  const db = new Kysely<StoreSchema>({ dialect });
  return new SqlGovernanceStore(db, 'sqlite', { location: file, connectionString: null });
}

/** Opens the store DATABASE_URL names (SQLite by default) and applies pending migrations. */
export async function openStore(options: OpenStoreOptions = {}): Promise<SqlGovernanceStore> {
  const target = parseStoreUrl(options.url);
  const store =
    target.kind === 'postgres' ? createPostgresStore(target.connectionString, options) : createSqliteStore(target.path, options);
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }
  return store;
}
