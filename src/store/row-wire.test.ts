import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { ROW_WIRE_POSITIONS, rowToWire, wireToRow } from './row-wire.js';
import type { RequestRow } from './types.js';

/** Every field set, each to a value no other field has. */
const FULL: RequestRow = {
  id: 'req-1',
  ts: 1_795_785_470_476,
  key_id: 'key-1',
  team_id: 'team-1',
  alias: 'chat',
  deployment: 'eu-vllm',
  endpoint: 'chat',
  status: 429,
  stream: true,
  prompt_tokens: 12,
  completion_tokens: 8,
  cost_nanos: 1_234,
  latency_ms: 42,
  ttft_ms: 7,
  error_code: 'rate_limited',
  energy_wh: 0.125,
  co2e_ug: 31,
  usage_estimated: false,
  region: 'eu-west',
  pii_types: { email: 2, iban: 1 },
  attempts: [
    { deployment: 'us-openai', status: null, error_code: 'upstream_timeout', latency_ms: 30_000 },
    { deployment: 'eu-vllm', status: 429, error_code: 'rate_limited', latency_ms: 12 },
  ],
  request_id: 'client-id',
};

/** Through a real MessagePort, as the writer threads receive it. */
function posted(wire: unknown): unknown {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(wire);
    return receiveMessageOnPort(port2)!.message;
  } finally {
    port1.close();
  }
}

test('a row with every field comes back from its wire form as it was, through a MessagePort', () => {
  assert.deepEqual(wireToRow(posted(rowToWire(FULL)) as unknown[]), FULL);
});

test('each field travels at its own position', () => {
  const wire = rowToWire(FULL);
  const fields = Object.keys(ROW_WIRE_POSITIONS) as (keyof RequestRow)[];
  assert.deepEqual(fields.sort(), (Object.keys(FULL) as (keyof RequestRow)[]).sort(), 'every field of a row has a position');
  assert.equal(new Set(Object.values(ROW_WIRE_POSITIONS)).size, fields.length, 'no two share one');
  assert.equal(wire.length, fields.length);
  for (const field of fields) {
    if (field === 'attempts') continue; // sent as arrays; compared whole above
    assert.deepEqual(wire[ROW_WIRE_POSITIONS[field]], FULL[field], field);
  }
});

test('a row without the optional fields, or with no attempts, reads as the stores read it', () => {
  const { energy_wh: _e, co2e_ug: _c, usage_estimated: _u, region: _r, pii_types: _p, attempts: _a, request_id: _i, ...required } = FULL;
  const back = wireToRow(posted(rowToWire(required)) as unknown[]);
  for (const [field, value] of Object.entries(required)) assert.deepEqual(back[field as keyof RequestRow], value, field);
  for (const field of ['energy_wh', 'co2e_ug', 'usage_estimated', 'region', 'pii_types', 'attempts', 'request_id'] as const) assert.equal(back[field] ?? null, null, field);
  assert.equal(wireToRow(rowToWire({ ...FULL, attempts: null })).attempts, null);
});
