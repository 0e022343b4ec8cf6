import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';
import { REPORT_CONFIG, seedReportStore } from '../helpers/report-seed.js';
import { openStore } from '../../src/store/open-store.js';

let dir: string;
let database: string;
let configPath: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stellwerk-report-cli-'));
  database = join(dir, 'stellwerk.db');
  const store = await openStore({ url: database });
  await seedReportStore(store);
  await store.close();
  configPath = join(dir, 'stellwerk.yaml');
  writeFileSync(configPath, `governance: { sqlite_path: ${JSON.stringify(database)} }\n${REPORT_CONFIG}`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `stellwerk report …` to its end. */
async function report(args: string[]) {
  const cli = spawnCli(['report', ...args], { DATABASE_URL: undefined });
  const code = await cli.exited();
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('') };
}

test('stellwerk report --config prints the CSV report with the savings replayed on the config', async () => {
  const { code, stdout, stderr } = await report(['--month', '2026-11', '--format', 'csv', '--config', configPath]);
  assert.equal(code, 0, stderr);
  const lines = stdout.split('\n').map((line) => line.replace(/\r$/, ''));
  assert.equal(lines[0], 'team,team_name,model,requests,prompt_tokens,completion_tokens,cost_usd,energy_wh,co2e_g,replayed_requests,saving_wh,saving_co2e_g,saving_wh_pct,saving_co2e_pct');
  assert.match(lines[1]!, /^t-1,"Research, ""Lab""",chat,20,20000,10000,1\.2345679,7\.5,2\.8575,20,[0-9.]+,[0-9.]+,33\.33,33\.33$/);
  assert.match(lines[2]!, /^,,green,6,/);
});

test('stellwerk report --sqlite --out writes JSON to a file; without a config there are no savings', async () => {
  const out = join(dir, 'report.json');
  const { code, stdout, stderr } = await report(['--month', '2026-11', '--format', 'json', '--sqlite', database, '--out', out]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, '');
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as { replayed: boolean; total: { requests: number; saving_wh: number | null } };
  assert.equal(parsed.replayed, false);
  assert.equal(parsed.total.requests, 26);
  assert.equal(parsed.total.saving_wh, null);
});

test('an empty month prints an empty Markdown report and succeeds', async () => {
  const { code, stdout } = await report(['--month', '2024-02', '--format', 'md', '--config', configPath]);
  assert.equal(code, 0);
  assert.match(stdout, /^# Stellwerk usage report 2024-02/);
  assert.match(stdout, /No requests in 2024-02\./);
});

test('bad arguments get a one-line error and exit code 2', async () => {
  for (const [args, message] of [
    [['--format', 'csv', '--sqlite', database], /needs --month YYYY-MM/],
    [['--month', '2026-13', '--sqlite', database], /month must be YYYY-MM/],
    [['--month', '2026-11', '--format', 'xlsx', '--sqlite', database], /--format must be one of csv, json, md/],
    [['--month', '2026-11', '--sqlite', join(dir, 'missing.db')], /no SQLite database at/],
    [['--month', '2026-11'], /name the store/],
  ] as const) {
    const { code, stderr } = await report([...args]);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  }
});
