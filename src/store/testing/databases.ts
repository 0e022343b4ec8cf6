// Test support (not used at run time): throwaway Postgres databases and unique Redis names, so
// that test files running in parallel never meet.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server's maintenance database; override with STELLWERK_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL = process.env.STELLWERK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Override with STELLWERK_TEST_REDIS_URL. */
export const TEST_REDIS_URL = process.env.STELLWERK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** CREATE DATABASE stellwerk_test_<random>; drop() removes it (with any connection left open). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('stellwerk_test');
  await withAdmin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

/** Runs one statement on the maintenance database (e.g. pg_terminate_backend). */
export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return withAdmin((client) => client.query(text, values));
}

/** Polls until `check` is true; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
