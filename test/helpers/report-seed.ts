import type { SqlGovernanceStore } from '../../src/store/sql-store.js';
import type { RequestRow } from '../../src/store/types.js';
import { requestRows } from './request-rows.js';

/** A month of request rows and the config they are replayed on, for the tests of `stellwerk report`. */

/** `chat`: two H100s in one place, one in a data centre of PUE 1.0 and one of 2.0 — the first twice as efficient. `green`: FR against PL. */
export const REPORT_CONFIG = `
models:
  - name: chat
    routing: { strategy: weighted }
    deployments:
      - { provider: openai-compatible, name: efficient, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, pue: 1.0, grid: DE }
      - { provider: openai-compatible, name: wasteful, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, pue: 2.0, grid: DE }
  - name: green
    routing: { strategy: energy, minimize: carbon }
    deployments:
      - { provider: openai-compatible, name: fr, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, pue: 1.2, grid: FR }
      - { provider: openai-compatible, name: pl, base_url: http://127.0.0.1:1/v1, model: llama-3.1-8b, hardware: { gpu: h100-sxm, count: 1 }, pue: 1.2, grid: PL }
`;

export const NOV = Date.UTC(2026, 10, 1);
export const DEC = Date.UTC(2026, 11, 1);

const row = requestRows({ alias: 'chat', deployment: 'efficient', prompt_tokens: 1000, completion_tokens: 500 });

/** Seeds November 2026 (or of `year`; ids and the team id get `prefix`): ten requests of team t-1 to each `chat` deployment, five of no team to `green`'s PL, and rows just outside November. */
export async function seedReportStore(store: SqlGovernanceStore, options: { prefix?: string; year?: number } = {}): Promise<void> {
  const prefix = options.prefix ?? '';
  const shift = Date.UTC(options.year ?? 2026, 10, 1) - NOV;
  const now = Date.now();
  await store.insertTeam({ id: `${prefix}t-1`, name: 'Research, "Lab"', models: null, metadata: {}, state: 'active', created_at: now, updated_at: now, rpm: null, tpm: null, max_parallel: null, budget: null, budget_period: 'month' });
  const rows: RequestRow[] = [];
  for (let i = 0; i < 10; i++) {
    rows.push(row(`e${i}`, NOV + i * 3_600_000, { team_id: 't-1', deployment: 'efficient', cost_nanos: 123_456_789, energy_wh: 0.25, co2e_ug: 95_250 }));
    rows.push(row(`w${i}`, NOV + i * 3_600_000 + 1, { team_id: 't-1', deployment: 'wasteful', cost_nanos: 1, energy_wh: 0.5, co2e_ug: 190_500 }));
  }
  for (let i = 0; i < 5; i++) rows.push(row(`p${i}`, DEC - 1 - i, { alias: 'green', deployment: 'pl', prompt_tokens: 200, completion_tokens: 800, cost_nanos: 7, energy_wh: 0.1, co2e_ug: 66_200 }));
  // A request to a deployment no longer in the config counts, but cannot be replayed.
  rows.push(row('gone', NOV + 5, { alias: 'green', deployment: 'retired', cost_nanos: 3, energy_wh: null, co2e_ug: null }));
  rows.push(row('october', NOV - 1, { team_id: 't-1', cost_nanos: 999 }));
  rows.push(row('december', DEC, { team_id: 't-1', cost_nanos: 999 }));
  await store.insertRequests(rows.map((seeded) => ({ ...seeded, id: `${prefix}${seeded.id}`, ts: seeded.ts + shift, team_id: seeded.team_id === null ? null : `${prefix}${seeded.team_id}` })));
}
