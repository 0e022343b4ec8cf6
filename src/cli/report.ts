import { existsSync, writeFileSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { buildMonthlyReport, formatReport, monthBounds, REPORT_FORMATS, replayModelOf, type ReportFormat } from '../accounting/report.js';
import { createSqliteStore, openStore } from '../store/open-store.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

export const REPORT_HELP = `Monthly usage report per team and model: requests, tokens, cost, energy, CO₂e,
and what the energy routing strategy would have saved.

Usage:
  stellwerk report --month YYYY-MM [--format csv|json|md] [--config FILE | --database-url URL | --sqlite PATH] [--out FILE]

Options:
  --month YYYY-MM       The month (UTC).
  --format F            csv, json or md (default md).
  -c, --config FILE     The gateway's config: its store, and the deployments the savings are
                        replayed on. Env: STELLWERK_CONFIG
  --database-url URL    Read this store (postgres://… or a SQLite path) instead. Env: DATABASE_URL
  --sqlite PATH         Read this SQLite file instead.
  --out FILE            Write the report to FILE instead of stdout.

Savings need a config; without one the report has the stored figures only.
`;

const OPTIONS = {
  month: { type: 'string' },
  format: { type: 'string' },
  config: { type: 'string', short: 'c' },
  'database-url': { type: 'string' },
  sqlite: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `stellwerk report …`: reads the store directly (no gateway needed) and prints the report. */
export async function runReport(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs({ args: argv, options: OPTIONS, allowPositionals: false });
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  if (values.month === undefined) throw new UsageError('report needs --month YYYY-MM (see "stellwerk report --help")');
  try {
    monthBounds(values.month);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const format = (values.format ?? 'md') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
  if (values['database-url'] !== undefined && values.sqlite !== undefined) throw new UsageError('give --database-url or --sqlite, not both');
  const configPath = values.config ?? process.env.STELLWERK_CONFIG;
  const config = configPath === undefined ? null : loadConfigFile(configPath);
  const store = await openReportStore(values['database-url'] ?? process.env.DATABASE_URL, values.sqlite, config);
  try {
    const report = await buildMonthlyReport(store.db, values.month, config === null ? null : replayModelOf(config));
    const text = formatReport(report, format);
    if (values.out === undefined) process.stdout.write(text);
    else writeFileSync(values.out, text);
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * The store to read: --sqlite, else --database-url (or DATABASE_URL), else the config's.
 * Migrations are not applied (a report only reads), and a SQLite file that does not exist is an
 * error rather than a new empty database.
 */
async function openReportStore(databaseUrl: string | undefined, sqlitePath: string | undefined, config: Config | null): Promise<SqlGovernanceStore> {
  if (sqlitePath !== undefined) return openSqlite(sqlitePath);
  const url = databaseUrl !== undefined && databaseUrl !== '' ? databaseUrl : (config?.governance.database_url ?? null);
  if (url !== null) {
    if (!/^postgres(ql)?:\/\//i.test(url)) return openSqlite(url.replace(/^(sqlite:(\/\/)?|file:)/i, ''));
    return openStore({ url, migrate: false });
  }
  if (config !== null) return openSqlite(config.governance.sqlite_path);
  throw new UsageError('name the store: --config FILE, --database-url URL or --sqlite PATH');
}

function openSqlite(path: string): SqlGovernanceStore {
  if (path !== ':memory:' && !existsSync(path)) throw new UsageError(`no SQLite database at ${path}`);
  return createSqliteStore(path);
}
