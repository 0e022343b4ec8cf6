import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoreSchema } from './schema.js';

/** A Postgres column type as written in a cast (`text`, `bigint`, `jsonb`, …). */
export type PostgresType = 'text' | 'bigint' | 'integer' | 'boolean' | 'double precision' | 'jsonb';

/**
 * Inserts many rows into a Postgres table as one statement with one parameter, the rows as a
 * JSON array: `INSERT INTO t (a, b) SELECT a, b FROM json_to_recordset($1) AS r(a text, b bigint)
 * [ON CONFLICT (k) DO NOTHING]`. For the request log and the audit log, which insert hundreds of
 * rows of a fixed shape per batch on the replica's event loop: a query builder makes and
 * compiles a node per value, and one array parameter per column (unnest) has the driver escape
 * every element in JavaScript; here `JSON.stringify` (native) writes the whole batch, and the
 * statement's text depends on the columns only. jsonb columns hold JSON text in `rows` (as
 * everywhere in the store) and are cast from text. `rows` must all have the keys of `types`;
 * undefined is written as NULL. Resolves to the number of rows inserted.
 */
export async function recordsetInsert<Row extends object>(
  db: Kysely<StoreSchema> | Transaction<StoreSchema>,
  table: keyof StoreSchema & string,
  types: Readonly<Record<keyof Row & string, PostgresType>>,
  rows: readonly Row[],
  conflictColumn: (keyof Row & string) | null,
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = Object.keys(types) as (keyof Row & string)[];
  const selected = columns.map((column) => (types[column] === 'jsonb' ? sql`${sql.ref(column)}::jsonb` : sql.ref(column)));
  const record = columns.map((column) => sql`${sql.ref(column)} ${sql.raw(types[column] === 'jsonb' ? 'text' : types[column])}`);
  const conflict = conflictColumn === null ? sql`` : sql` ON CONFLICT (${sql.ref(conflictColumn)}) DO NOTHING`;
  const result = await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))}) SELECT ${sql.join(selected)} FROM json_to_recordset(${batchJson(rows)}::json) AS r(${sql.join(record)})${conflict}`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * The rows as JSON text. JSON.stringify writes a lone surrogate as a `\ud800`-style escape,
 * which Postgres refuses to turn into text: such a batch would fail on every retry. Those are
 * made well-formed (U+FFFD) first, as a UTF-8 encoder would; a batch without any pays one scan.
 */
function batchJson(rows: readonly object[]): string {
  const json = JSON.stringify(rows);
  if (!LONE_SURROGATE_ESCAPE.test(json)) return json;
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? wellFormed(value) : value));
}

/** Any surrogate escape: most batches have none, and those that have one are checked exactly. */
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i;

function wellFormed(value: string): string {
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
