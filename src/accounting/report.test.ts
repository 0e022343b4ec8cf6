import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { openStore } from '../store/open-store.js';
import type { SqlGovernanceStore } from '../store/sql-store.js';
import { NOV, DEC, REPORT_CONFIG, seedReportStore } from '../../test/helpers/report-seed.js';
import { accountingProfile, co2eGrams, energyWh } from './profile.js';
import { buildMonthlyReport, formatReport, monthBounds, replayModelOf, type MonthlyReport } from './report.js';

let dir: string;
let store: SqlGovernanceStore;
let report: MonthlyReport;
const config = parseConfig(REPORT_CONFIG, 'report-test.yaml', {});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stellwerk-report-'));
  store = await openStore({ url: join(dir, 'report.db') });
  await seedReportStore(store);
  report = await buildMonthlyReport(store.db, '2026-11', replayModelOf(config));
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('month bounds are UTC calendar months; anything but YYYY-MM is refused', () => {
  assert.deepEqual(monthBounds('2026-11'), { from: NOV, to: DEC });
  assert.deepEqual(monthBounds('2026-12'), { from: DEC, to: Date.UTC(2027, 0, 1) });
  for (const bad of ['2026-13', '2026-1', '11-2026', '2026-11-01', '']) assert.throws(() => monthBounds(bad), /YYYY-MM/);
});

test('the report sums the month exactly per team and model, rows outside the month left out', () => {
  assert.equal(report.month, '2026-11');
  assert.deepEqual(
    report.lines.map((line) => [line.team, line.team_name, line.model, line.requests]),
    [
      ['t-1', 'Research, "Lab"', 'chat', 20],
      [null, null, 'green', 6],
    ],
  );
  const chat = report.lines[0]!;
  assert.equal(chat.prompt_tokens, 20_000);
  assert.equal(chat.completion_tokens, 10_000);
  assert.equal(chat.cost_usd, (10 * 123_456_789 + 10) / 1e9);
  assert.equal(chat.energy_wh, 7.5);
  assert.equal(chat.co2e_g, 2.8575);
  const green = report.lines[1]!;
  assert.equal(green.cost_usd, 38 / 1e9);
  assert.equal(green.co2e_g, 0.331);
  assert.equal(report.total.requests, 26);
  assert.equal(report.total.cost_usd, (10 * 123_456_789 + 10 + 38) / 1e9);
  assert.equal(report.total.co2e_g, 3.1885);
});

test('the energy strategy saving: requests on the deployment half as efficient would have used half the energy', async () => {
  const efficient = accountingProfile('openai-compatible', 'llama-3.1-8b', { hardware: { gpu: 'h100-sxm', count: 1 }, pue: 1.0, grid: 'DE' }).energy!;
  const perRequest = energyWh(efficient, 1000, 500);
  const chat = report.lines[0]!;
  assert.equal(chat.replayed_requests, 20);
  // Ten requests on `wasteful` cost 2 × perRequest each; on `efficient` 1 ×: 10 × perRequest saved of 30 × perRequest.
  assert.ok(Math.abs(chat.saving_wh! - 10 * perRequest) < 1e-6, `${chat.saving_wh} vs ${10 * perRequest}`);
  assert.ok(Math.abs(chat.saving_co2e_g! - co2eGrams(efficient, 10 * perRequest)) < 1e-6);
  assert.equal(chat.saving_wh_pct, 33.33);
  assert.equal(chat.saving_co2e_pct, 33.33);
  // minimize: carbon moves PL's requests to FR: the same Wh, PL's 662 g/kWh against FR's 56.
  const green = report.lines[1]!;
  assert.equal(green.replayed_requests, 5, 'the retired deployment is not replayed');
  assert.equal(green.saving_wh, 0);
  assert.equal(green.saving_co2e_pct, Math.round(((662 - 56) / 662) * 10_000) / 100);
  // Without a config there is nothing to replay.
  const plain = await buildMonthlyReport(store.db, '2026-11', null);
  assert.equal(plain.replayed, false);
  assert.equal(plain.lines[0]!.saving_wh, null);
  assert.equal(plain.lines[0]!.cost_usd, chat.cost_usd);
});

test('CSV: a header, one line per team and model, RFC 4180 quoting', () => {
  const lines = formatReport(report, 'csv').split('\r\n');
  assert.equal(
    lines[0],
    'team,team_name,model,requests,prompt_tokens,completion_tokens,cost_usd,energy_wh,co2e_g,replayed_requests,saving_wh,saving_co2e_g,saving_wh_pct,saving_co2e_pct',
  );
  assert.ok(lines[1]!.startsWith('t-1,"Research, ""Lab""",chat,20,20000,10000,1.2345679,7.5,2.8575,20,'), lines[1]);
  assert.ok(lines[2]!.startsWith(',,green,6,'), lines[2]);
  assert.equal(lines[3], '');
  assert.equal(lines.length, 4);
});

test('JSON: valid, with the lines and the total', () => {
  const parsed = JSON.parse(formatReport(report, 'json')) as MonthlyReport;
  assert.deepEqual(parsed, JSON.parse(JSON.stringify(report)));
  assert.equal(parsed.total.requests, 26);
  assert.equal(parsed.from, '2026-11-01T00:00:00.000Z');
});

test('Markdown: a table with a header, one row per team and model, and a total row', () => {
  const text = formatReport(report, 'md');
  const rows = text.split('\n').filter((line) => line.startsWith('|'));
  assert.equal(rows[0], '| Team | Model | Requests | Tokens in | Tokens out | Cost USD | Wh | gCO₂e | Energy strategy saving |');
  assert.equal(rows[1], '|---|---|---:|---:|---:|---:|---:|---:|---:|');
  assert.match(rows[2]!, /^\| Research, "Lab" \| chat \| 20 \| 20000 \| 10000 \| 1\.23 \| 7\.50 \| 2\.86 \| [0-9.]+ Wh \(33\.3%\), [0-9.]+ g \(33\.3%\) \|$/);
  assert.match(rows[3]!, /^\| \(no team\) \| green \| 6 \|/);
  assert.match(rows[4]!, /^\| \*\*Total\*\* \| {2}\| 26 \|/);
  assert.equal(rows.length, 5);
});

test('an empty month is an empty report, not an error', async () => {
  const empty = await buildMonthlyReport(store.db, '2025-01', replayModelOf(config));
  assert.deepEqual(empty.lines, []);
  assert.equal(empty.total.requests, 0);
  assert.equal(formatReport(empty, 'csv').split('\r\n').length, 2, 'the header alone');
  assert.match(formatReport(empty, 'md'), /No requests in 2025-01\./);
  assert.deepEqual(JSON.parse(formatReport(empty, 'json')).lines, []);
});

test('the report reads Postgres the same way', async () => {
  const pg = await openStore({ url: 'postgres://postgres@127.0.0.1:5432/test' });
  const prefix = `report-${process.pid}-${Date.now()}-`;
  // A year of its own, so that rows of other tests sharing the database do not fall into it.
  const year = 3000 + (Date.now() % 5000);
  try {
    await seedReportStore(pg, { prefix, year });
    const fromPg = await buildMonthlyReport(pg.db, `${year}-11`, replayModelOf(config));
    assert.deepEqual(
      fromPg.lines.map((line) => [line.team, line.team_name, line.model, line.requests, line.cost_usd, line.energy_wh, line.co2e_g, line.saving_wh_pct]),
      report.lines.map((line) => [line.team === null ? null : `${prefix}${line.team}`, line.team_name, line.model, line.requests, line.cost_usd, line.energy_wh, line.co2e_g, line.saving_wh_pct]),
    );
  } finally {
    await pg.db.deleteFrom('requests').where('id', 'like', `${prefix}%`).execute();
    await pg.db.deleteFrom('teams').where('id', 'like', `${prefix}%`).execute();
    await pg.close();
  }
});
