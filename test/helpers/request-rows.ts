import type { RequestRow } from '../../src/store/types.js';

/** Builds request rows to seed a store with: `(id, ts, fields)` gives a complete row. */
export type RequestRowBuilder = (id: string, ts: number, fields?: Partial<RequestRow>) => RequestRow;

/**
 * A builder of complete request rows: a plain answered request (status 200, no key or team,
 * unpriced, no energy figures) with `defaults` over it, and each row's own fields over those.
 */
export function requestRows(defaults: Pick<RequestRow, 'alias' | 'deployment' | 'prompt_tokens' | 'completion_tokens'>): RequestRowBuilder {
  return (id, ts, fields = {}) => ({
    id,
    ts,
    key_id: null,
    team_id: null,
    endpoint: 'chat',
    status: 200,
    stream: false,
    cost_nanos: 0,
    latency_ms: 100,
    ttft_ms: null,
    error_code: null,
    energy_wh: null,
    co2e_ug: null,
    usage_estimated: false,
    ...defaults,
    ...fields,
  });
}
