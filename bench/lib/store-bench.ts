/**
 * Scaffolding shared by the store benchmarks (bench/request-log.ts, bench/usage-query.ts): the
 * row count argument, a seeded generator for their synthetic rows, a timer, and running one
 * measurement on each store kind — SQLite in a temp file and Postgres in a scratch database.
 *
 * Environment: BENCH_POSTGRES_URL (a database the user may CREATE DATABASE from; default
 * postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import type { SqlGovernanceStore } from '../../src/store/sql-store.js';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The row count from the first command-line argument, or `fallback`; a positive integer. */
export function rowCountArg(fallback: number): number {
  const count = Number(process.argv[2] ?? fallback);
  if (!Number.isInteger(count) || count < 1) throw new Error(`rows must be a positive integer, got "${process.argv[2]}"`);
  return count;
}

/** A linear congruential generator from a fixed seed: the same rows on every run and machine. */
export function benchRandom(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** How long `run` took, in milliseconds, and what it returned. */
export async function time<T>(run: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await run();
  return [performance.now() - start, result];
}

/**
 * Runs `measure` on a SQLite store in a temp file (WAL), then on a Postgres store in a scratch
 * database created and dropped here; when Postgres cannot be reached, says so and skips it.
 * `tag` names the temp directory and the scratch database.
 */
export async function onEachStore(tag: string, measure: (label: string, store: SqlGovernanceStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `stellwerk-${tag}-bench-`));
  try {
    const sqlite = await openStore({ url: join(dir, 'bench.db') });
    try {
      await measure('SQLite (file, WAL)', sqlite);
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const name = `stellwerk_bench_${tag.replaceAll('-', '_')}_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\nPostgres: skipped (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const postgres = await openStore({ url: url.toString() });
    try {
      await measure('Postgres', postgres);
    } finally {
      await postgres.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.end();
  }
}
