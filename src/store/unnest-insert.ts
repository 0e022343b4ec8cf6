import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoreSchema } from './schema.js';

/** A Postgres column type as written in a cast (`text`, `bigint`, `jsonb`, …). */
export type PostgresType = 'text' | 'bigint' | 'integer' | 'boolean' | 'double precision' | 'jsonb';

/**
 * Inserts many rows into a Postgres table as one statement with one array parameter per column:
 * `INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::bigint[]) [ON CONFLICT (k) DO NOTHING]`.
 * For the request log and the audit log, which insert hundreds of rows of a fixed shape per
 * batch: a query builder makes and compiles a node per value (thousands per batch, on the
 * event loop) and the statement's text changes with the row count; here the text depends on
 * the columns only and the values travel as arrays. `rows` must all have the keys of `types`;
 * undefined is written as NULL. Resolves to the number of rows inserted.
 */
export async function unnestInsert<Row extends object>(
  db: Kysely<StoreSchema> | Transaction<StoreSchema>,
  table: keyof StoreSchema & string,
  types: Readonly<Record<keyof Row & string, PostgresType>>,
  rows: readonly Row[],
  conflictColumn: (keyof Row & string) | null,
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = Object.keys(types) as (keyof Row & string)[];
  const arrays = columns.map((column) => sql`${rows.map((row) => (row as Record<string, unknown>)[column] ?? null)}::${sql.raw(types[column])}[]`);
  const conflict = conflictColumn === null ? sql`` : sql` ON CONFLICT (${sql.ref(conflictColumn)}) DO NOTHING`;
  const result = await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))}) SELECT * FROM unnest(${sql.join(arrays)})${conflict}`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
