import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import { deploymentName } from '../config/schema.js';
import { PROVIDERS } from '../providers/index.js';
import type { ProviderModule } from '../providers/types.js';
import type { StoreSchema } from '../store/schema.js';
import { accountingProfile, co2eGrams, energyWh, type EnergyProfile } from './profile.js';

/**
 * The monthly report (`stellwerk report`, docs/accounting.md): per team and model alias, the
 * month's requests, tokens, cost, energy and CO₂e as stored, and what the `energy` strategy
 * would have saved — each request replayed through the energy model of the current config:
 * its expected Wh (and gCO₂e) on the deployment it went to against the best deployment of its
 * alias. Reads the store directly, in pages, so a month of millions of rows stays in bounded memory.
 */

/** What the replay knows of each alias of the current config. */
export interface ReplayModel {
  readonly aliases: ReadonlyMap<string, { readonly minimize: 'energy' | 'carbon'; readonly deployments: ReadonlyMap<string, EnergyProfile | null> }>;
}

/** The energy model of every deployment of a config, as the gateway would resolve it at load (without telemetry fits). */
export function replayModelOf(config: Config): ReplayModel {
  const aliases = new Map<string, { minimize: 'energy' | 'carbon'; deployments: Map<string, EnergyProfile | null> }>();
  for (const model of config.models) {
    const deployments = new Map<string, EnergyProfile | null>();
    model.deployments.forEach((settings, index) => {
      const provider = PROVIDERS[settings.provider] as ProviderModule;
      deployments.set(deploymentName(model.name, index, settings), accountingProfile(provider.name, provider.upstreamModel(settings), settings).energy);
    });
    aliases.set(model.name, { minimize: model.routing.minimize, deployments });
  }
  return { aliases };
}

export interface ReportLine {
  /** Team id; null for requests of no team (master key, keys without a team, no auth). */
  readonly team: string | null;
  readonly team_name: string | null;
  /** The model alias. */
  readonly model: string | null;
  readonly requests: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cost_usd: number;
  readonly energy_wh: number;
  readonly co2e_g: number;
  /** Requests the replay could place (their alias and deployment are in the config, with an energy model). */
  readonly replayed_requests: number;
  /** Expected Wh and gCO₂e saved by the energy strategy's choice; null when nothing could be replayed. */
  readonly saving_wh: number | null;
  readonly saving_co2e_g: number | null;
  /** The savings as a share of the replayed requests' expected figures where they went, in %. */
  readonly saving_wh_pct: number | null;
  readonly saving_co2e_pct: number | null;
}

export interface MonthlyReport {
  /** YYYY-MM (UTC). */
  readonly month: string;
  readonly from: string;
  readonly to: string;
  /** Whether savings were replayed (a config was given). */
  readonly replayed: boolean;
  readonly lines: readonly ReportLine[];
  readonly total: ReportLine;
}

/** Accumulates one line; integers (nano-USD, µg) so sums are exact. */
class Tally {
  requests = 0;
  promptTokens = 0;
  completionTokens = 0;
  costNanos = 0;
  energyWh = 0;
  co2eUg = 0;
  replayed = 0;
  actualWh = 0;
  bestWh = 0;
  actualG = 0;
  bestG = 0;

  add(other: Tally): void {
    for (const key of Object.keys(this) as (keyof Tally)[]) (this[key] as number) += other[key] as number;
  }

  line(team: string | null, teamName: string | null, model: string | null): ReportLine {
    const replayed = this.replayed > 0;
    return {
      team,
      team_name: teamName,
      model,
      requests: this.requests,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      cost_usd: this.costNanos / 1e9,
      energy_wh: round(this.energyWh, 6),
      co2e_g: this.co2eUg / 1e6,
      replayed_requests: this.replayed,
      saving_wh: replayed ? round(this.actualWh - this.bestWh, 6) : null,
      saving_co2e_g: replayed ? round(this.actualG - this.bestG, 6) : null,
      saving_wh_pct: replayed && this.actualWh > 0 ? round(((this.actualWh - this.bestWh) / this.actualWh) * 100, 2) : null,
      saving_co2e_pct: replayed && this.actualG > 0 ? round(((this.actualG - this.bestG) / this.actualG) * 100, 2) : null,
    };
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The UTC bounds of a YYYY-MM month; throws on anything else. */
export function monthBounds(month: string): { from: number; to: number } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (match === null) throw new RangeError(`month must be YYYY-MM, e.g. 2026-11 (got "${month}")`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { from: Date.UTC(year, index, 1), to: Date.UTC(year, index + 1, 1) };
}

const PAGE = 5_000;

/** Builds the report of `month` from the request rows of the store behind `db`. */
export async function buildMonthlyReport(db: Kysely<StoreSchema>, month: string, replay: ReplayModel | null): Promise<MonthlyReport> {
  const { from, to } = monthBounds(month);
  const tallies = new Map<string, { team: string | null; model: string | null; tally: Tally }>();
  let after: { ts: number; id: string } | null = null;
  for (;;) {
    let query = db
      .selectFrom('requests')
      .select(['id', 'ts', 'team_id', 'alias', 'deployment', 'prompt_tokens', 'completion_tokens', 'cost_nanos', 'energy_wh', 'co2e_ug'])
      .where('ts', '>=', from)
      .where('ts', '<', to);
    if (after !== null) {
      const { ts, id } = after;
      query = query.where((eb) => eb.or([eb('ts', '>', ts), eb.and([eb('ts', '=', ts), eb('id', '>', id)])]));
    }
    const rows = await query.orderBy('ts').orderBy('id').limit(PAGE).execute();
    for (const row of rows) {
      const key = `${row.team_id ?? ''}\u0000${row.alias ?? ''}`;
      let entry = tallies.get(key);
      if (entry === undefined) tallies.set(key, (entry = { team: row.team_id, model: row.alias, tally: new Tally() }));
      const tally = entry.tally;
      const prompt = Number(row.prompt_tokens);
      const completion = Number(row.completion_tokens);
      tally.requests++;
      tally.promptTokens += prompt;
      tally.completionTokens += completion;
      tally.costNanos += Number(row.cost_nanos);
      tally.energyWh += row.energy_wh === null ? 0 : Number(row.energy_wh);
      tally.co2eUg += row.co2e_ug === null ? 0 : Number(row.co2e_ug);
      if (replay !== null) replayRequest(replay, tally, row.alias, row.deployment, prompt, completion);
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    after = { ts: Number(last.ts), id: last.id };
  }
  const names = new Map((await db.selectFrom('teams').select(['id', 'name']).execute()).map((team) => [team.id, team.name] as const));
  const entries = [...tallies.values()].sort((a, b) => compareNullsLast(a.team, b.team) || compareNullsLast(a.model, b.model));
  const total = new Tally();
  for (const entry of entries) total.add(entry.tally);
  return {
    month,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    replayed: replay !== null,
    lines: entries.map((entry) => entry.tally.line(entry.team, entry.team === null ? null : (names.get(entry.team) ?? null), entry.model)),
    total: total.line(null, null, null),
  };
}

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Adds one request's replay: the expected figures where it went and on the deployment the
 * energy strategy would pick (the alias's `minimize`; the TTFT bound cannot be replayed and is
 * ignored). A request whose alias or deployment is gone, or has no energy model, is not replayed.
 */
function replayRequest(replay: ReplayModel, tally: Tally, alias: string | null, deployment: string | null, prompt: number, completion: number): void {
  if (alias === null || deployment === null) return;
  const model = replay.aliases.get(alias);
  const actual = model?.deployments.get(deployment) ?? null;
  if (model === undefined || actual === null) return;
  const actualWh = energyWh(actual, prompt, completion);
  const actualG = co2eGrams(actual, actualWh);
  let bestWh = actualWh;
  let bestG = actualG;
  for (const candidate of model.deployments.values()) {
    if (candidate === null) continue;
    const wh = energyWh(candidate, prompt, completion);
    const grams = co2eGrams(candidate, wh);
    if (model.minimize === 'carbon' ? grams < bestG : wh < bestWh) {
      bestWh = wh;
      bestG = grams;
    }
  }
  tally.replayed++;
  tally.actualWh += actualWh;
  tally.bestWh += bestWh;
  tally.actualG += actualG;
  tally.bestG += bestG;
}

export type ReportFormat = 'csv' | 'json' | 'md';
export const REPORT_FORMATS: readonly ReportFormat[] = ['csv', 'json', 'md'];

const COLUMNS = [
  'team',
  'team_name',
  'model',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'energy_wh',
  'co2e_g',
  'replayed_requests',
  'saving_wh',
  'saving_co2e_g',
  'saving_wh_pct',
  'saving_co2e_pct',
] as const satisfies readonly (keyof ReportLine)[];

/** The report as text in `format`. */
export function formatReport(report: MonthlyReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return [COLUMNS.join(','), ...report.lines.map((line) => COLUMNS.map((column) => csvField(line[column])).join(','))].join('\r\n') + '\r\n';
    case 'md':
      return markdown(report);
  }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function markdown(report: MonthlyReport): string {
  const header = ['Team', 'Model', 'Requests', 'Tokens in', 'Tokens out', 'Cost USD', 'Wh', 'gCO₂e', 'Energy strategy saving'];
  const out = [`# Stellwerk usage report ${report.month}`, '', `${report.from} – ${report.to} (UTC)`, ''];
  if (report.lines.length === 0) {
    out.push(`No requests in ${report.month}.`, '');
    return out.join('\n');
  }
  out.push(`| ${header.join(' | ')} |`, `|${header.map((_, index) => (index < 2 ? '---' : '---:')).join('|')}|`);
  const row = (line: ReportLine, team: string, model: string) =>
    `| ${[
      team,
      model,
      line.requests,
      line.prompt_tokens,
      line.completion_tokens,
      figure(line.cost_usd),
      figure(line.energy_wh),
      figure(line.co2e_g),
      saving(line),
    ].join(' | ')} |`;
  for (const line of report.lines) out.push(row(line, mdText(line.team_name ?? line.team ?? '(no team)'), mdText(line.model ?? '(none)')));
  out.push(row(report.total, '**Total**', ''), '');
  if (!report.replayed) out.push('Savings need the config (`--config`) to replay requests through the energy model.', '');
  else out.push('Saving: expected Wh / gCO₂e had the `energy` strategy placed every request among its model\'s deployments in the current config.', '');
  return out.join('\n');
}

function saving(line: ReportLine): string {
  if (line.saving_wh === null) return '–';
  const pct = line.saving_wh_pct === null ? '' : ` (${line.saving_wh_pct.toFixed(1)}%)`;
  const co2Pct = line.saving_co2e_pct === null ? '' : ` (${line.saving_co2e_pct.toFixed(1)}%)`;
  return `${figure(line.saving_wh)} Wh${pct}, ${figure(line.saving_co2e_g!)} g${co2Pct}`;
}

/** Two decimals from 1 up, three significant digits below (small requests are fractions of a Wh), never an exponent. */
function figure(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(Math.min(15, 2 - Math.floor(Math.log10(Math.abs(value)))));
}

/** Table cells: pipes escaped, line breaks flattened. */
function mdText(text: string): string {
  return text.replaceAll('|', '\\|').replace(/[\r\n]+/g, ' ');
}
