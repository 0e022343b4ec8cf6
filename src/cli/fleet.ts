import { parseArgs } from 'node:util';
import type { BackendView } from '../fleet/fleet-view.js';
import { UsageError } from './usage-error.js';

export const FLEET_HELP = `Show the self-hosted inference servers of a running gateway: queue, KV cache,
prefix-cache hit rate, LoRA adapters, scrape age and share of traffic.

Usage:
  stellwerk fleet [--url URL] [--key KEY] [--json]

Where:
  --url URL   the gateway (default http://127.0.0.1:4000; env STELLWERK_URL)
  --key KEY   the master key or an admin key (env STELLWERK_MASTER_KEY)
  --json      print the answer of GET /admin/fleet as it is
`;

/** `stellwerk fleet`: GET /admin/fleet, printed as a table (or JSON). */
export async function runFleet(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(FLEET_HELP);
    return 0;
  }
  const url = (values.url ?? process.env.STELLWERK_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
  const key = values.key ?? process.env.STELLWERK_MASTER_KEY;
  if (!key) throw new UsageError('give the master key or an admin key with --key or STELLWERK_MASTER_KEY');
  let response: Response;
  try {
    response = await fetch(`${url}/admin/fleet`, { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new UsageError(`cannot reach the gateway at ${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    process.stderr.write(`stellwerk: the gateway answered ${response.status}: ${errorMessage(text)}\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }
  const body = JSON.parse(text) as { data: BackendView[]; window_ms: number | null };
  process.stdout.write(fleetTable(body.data, body.window_ms));
  return 0;
}

const COLUMNS: readonly [string, (view: BackendView) => string][] = [
  ['BACKEND', (view) => view.backend],
  ['ENGINE', (view) => view.detected_engine ?? view.engine],
  ['WAIT', (view) => num(view.waiting)],
  ['RUN', (view) => num(view.running)],
  ['KV', (view) => percent(view.kv_cache_usage)],
  ['PREFIX HIT', (view) => percent(view.prefix_cache_hit_rate)],
  ['LORAS', (view) => (view.loras.running.length === 0 ? '-' : view.loras.running.join(','))],
  ['AGE', (view) => (view.last_scrape_age_ms === null ? '-' : `${view.last_scrape_age_ms} ms`)],
  ['STATE', (view) => (view.stale ? `stale${view.error === null ? '' : `: ${view.error}`}` : 'fresh')],
  ['IN FLIGHT', (view) => String(view.gateway_in_flight)],
  ['SHARE', (view) => `${(view.share * 100).toFixed(1)}% (${view.picks})`],
];

/** Aligned columns, one server a row. */
export function fleetTable(views: readonly BackendView[], windowMs: number | null): string {
  if (views.length === 0) return 'No self-hosted deployments (kind: self-hosted) are configured.\n';
  const rows = [COLUMNS.map(([title]) => title), ...views.map((view) => COLUMNS.map(([, cell]) => cell(view)))];
  const widths = COLUMNS.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  const footer = windowMs === null ? '' : `Share: routing picks over the last ${Math.round(windowMs / 1000)} s.\n`;
  return `${lines.join('\n')}\n${footer}`;
}

function num(value: number | null): string {
  return value === null ? '-' : String(Math.round(value * 100) / 100);
}

function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(0)}%`;
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    return text;
  }
}
