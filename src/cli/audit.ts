import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { AuditStore } from '../audit/audit-store.js';
import { entryView } from '../audit/admin-api.js';
import { verifyAuditChain } from '../audit/verify.js';
import { openStore } from '../store/open-store.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

export const AUDIT_HELP = `Check and export the audit log (docs/audit.md), straight from the store.

Usage:
  stellwerk audit verify [--config FILE | --database-url URL | --sqlite PATH]
  stellwerk audit export --from ISO --to ISO [--out FILE] [--config FILE | --database-url URL | --sqlite PATH]

verify   Walks the hash chain and its checkpoints. Prints a summary and exits 0, or names the
         first broken entry (seq and why) and exits 1. Checkpoint signatures are checked with
         audit.hmac_secret of --config, else the env STELLWERK_AUDIT_HMAC_SECRET.
export   Writes the entries of [from, to) as JSON Lines, one entry with its hashes per line, in
         chain order, to --out or stdout.

The store: --database-url (postgres://… or a SQLite path), --sqlite PATH, the config's
governance section, else DATABASE_URL, else ./data/stellwerk.db.
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'database-url': { type: 'string' },
  sqlite: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** `stellwerk audit verify|export`. */
export async function runAudit(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (values.help || positionals.length === 0) {
    process.stdout.write(AUDIT_HELP);
    return values.help ? 0 : 2;
  }
  const [action, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  if (action !== 'verify' && action !== 'export') throw new UsageError(`unknown action "${action}" for audit; see "stellwerk audit --help"`);
  const sources = [values.config, values['database-url'], values.sqlite].filter((value) => value !== undefined);
  if (sources.length > 1) throw new UsageError('give one of --config, --database-url and --sqlite');
  const range = action === 'export' ? exportRange(values) : null;
  const { url, secret } = target(values);
  const store = await openStore({ url, migrate: false });
  try {
    if (!(await store.appliedMigrations()).includes('0003_audit')) {
      process.stderr.write(`stellwerk: no audit log in ${store.location} (the gateway creates it at its first start)\n`);
      return 1;
    }
    const audit = new AuditStore(store.db, store.kind);
    return range === null ? await verify(audit, store, secret) : await exportEntries(audit, range, values.out);
  } finally {
    await store.close();
  }
}

function target(values: Values): { url: string | undefined; secret: string | null } {
  const envSecret = process.env.STELLWERK_AUDIT_HMAC_SECRET || null;
  if (values['database-url'] !== undefined) return { url: values['database-url'], secret: envSecret };
  if (values.sqlite !== undefined) return { url: values.sqlite, secret: envSecret };
  const configPath = values.config ?? process.env.STELLWERK_CONFIG;
  if (configPath !== undefined) {
    const config = loadConfigFile(configPath);
    return { url: config.governance.database_url ?? config.governance.sqlite_path, secret: config.audit.hmac_secret ?? envSecret };
  }
  return { url: process.env.DATABASE_URL, secret: envSecret };
}

function exportRange(values: Values): { from: number; to: number } {
  const time = (name: 'from' | 'to'): number => {
    const value = values[name];
    if (value === undefined) throw new UsageError(`audit export needs --${name} (an ISO 8601 time)`);
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new UsageError(`--${name} "${value}" is not an ISO 8601 time`);
    return ms;
  };
  const range = { from: time('from'), to: time('to') };
  if (range.to <= range.from) throw new UsageError('--to must be after --from');
  return range;
}

async function verify(audit: AuditStore, store: SqlGovernanceStore, secret: string | null): Promise<number> {
  const report = await verifyAuditChain(audit, secret);
  const lines = [`store:        ${store.location}`, `entries:      ${report.entries}`, `head:         seq ${report.head.seq}, ${report.head.hash}`];
  const last = report.checkpoints.last;
  lines.push(`checkpoints:  ${report.checkpoints.count}${last === null ? '' : `, last at seq ${last.seq} (${new Date(last.ts).toISOString()})`}`);
  const signatures = {
    verified: 'checked with the secret',
    unsigned: 'checkpoints are unsigned (no audit.hmac_secret when they were written): the chain alone is checked',
    not_checked: 'not checked: no secret given (audit.hmac_secret or STELLWERK_AUDIT_HMAC_SECRET)',
  }[report.checkpoints.signatures];
  lines.push(`signatures:   ${signatures}`);
  if (report.broken !== null) {
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stderr.write(`audit log BROKEN at seq ${report.broken.seq}: ${report.broken.reason}\n`);
    return 1;
  }
  lines.push('status:       ok');
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function exportEntries(audit: AuditStore, range: { from: number; to: number }, out: string | undefined): Promise<number> {
  const stream: WriteStream | NodeJS.WriteStream = out === undefined ? process.stdout : createWriteStream(out, { flags: 'w' });
  let count = 0;
  for await (const entry of audit.range(range.from, range.to)) {
    if (!stream.write(`${JSON.stringify(entryView(entry))}\n`)) await once(stream, 'drain');
    count++;
  }
  if (out !== undefined) {
    (stream as WriteStream).end();
    await once(stream, 'finish');
    process.stderr.write(`${count} entries written to ${out}\n`);
  }
  return 0;
}
