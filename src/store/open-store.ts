import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { StoreSchema } from './schema.js';
import { SqlGovernanceStore } from './sql-store.js';

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
  /** Errors of idle pooled Postgres connections (e.g. the server restarted); default: ignored, the pool reconnects. */
  readonly onPoolError?: (error: Error) => void;
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

export function createSqliteStore(path: string, options: OpenStoreOptions = {}): SqlGovernanceStore {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file, { timeout: options.busyTimeoutMs ?? 5_000 });
  // WAL: readers never block the writer; NORMAL: durable across process crashes, and only the
  // last transactions may be lost on power loss, which suits a request log.
  if (!memory) database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
  const db = new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database }) });
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
