import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import { DeploymentState, DeploymentStates, retryAfterMs } from './deployment-state.js';

const settings = {
  breaker: { failures: 2, error_rate: 0.5, window_ms: 10_000, min_requests: 100, open_ms: 1_000, probes: 1 },
  latencyDecayMs: 60_000,
  rpm: null,
  tpm: null,
  rateLimitCooldownMs: 5_000,
};

test('a 429 cools the deployment down for the retry-after it gave, or the configured default', () => {
  const state = new DeploymentState(settings);
  state.end(state.begin(1_000, 0, false), new GatewayError('upstream_client_error', { status: 429, headers: { 'retry-after': '3' } }), 1_000, 0);
  assert.equal(state.cooldownUntil, 4_000);
  state.end(state.begin(2_000, 0, false), new GatewayError('upstream_client_error', { status: 429, headers: { 'retry-after-ms': '7500' } }), 2_000, 0);
  assert.equal(state.cooldownUntil, 9_500);
  const fresh = new DeploymentState(settings);
  fresh.end(fresh.begin(1_000, 0, false), new GatewayError('upstream_client_error', { status: 429 }), 1_000, 0);
  assert.equal(fresh.cooldownUntil, 6_000);
  assert.equal(fresh.breaker.stateAt(1_000), 'closed', 'a 429 is no fault of the upstream');
});

test('upstream faults count against the circuit; refused requests and clients leaving do not', () => {
  const state = new DeploymentState(settings);
  state.end(state.begin(0, 0, false), new GatewayError('upstream_client_error', { status: 400 }), 1, 0);
  state.end(state.begin(1, 0, false), new GatewayError('client_closed_request'), 2, 0);
  assert.equal(state.breaker.stateAt(3), 'closed');
  state.end(state.begin(3, 0, false), new GatewayError('upstream_error'), 4, 0);
  state.end(state.begin(4, 0, false), new GatewayError('upstream_timeout'), 5, 0);
  assert.equal(state.breaker.stateAt(6), 'open');
  assert.equal(state.inFlight, 0);
});

test('an attempt ends once, however often it is told', () => {
  const state = new DeploymentState(settings);
  const ticket = state.begin(0, 0, false);
  state.end(ticket, null, 1, 0);
  state.end(ticket, new GatewayError('upstream_error'), 2, 0);
  assert.equal(state.inFlight, 0);
});

test('retry-after as seconds, milliseconds or an HTTP date', () => {
  assert.equal(retryAfterMs(new GatewayError('upstream_client_error', { headers: { 'retry-after': '2' } })), 2_000);
  assert.equal(retryAfterMs(new GatewayError('upstream_client_error', { headers: { 'retry-after-ms': '250' } })), 250);
  const date = new Date(Date.now() + 10_000).toUTCString();
  const fromDate = retryAfterMs(new GatewayError('upstream_client_error', { headers: { 'retry-after': date } }))!;
  assert.ok(fromDate > 8_000 && fromDate <= 10_000);
  assert.equal(retryAfterMs(new GatewayError('upstream_client_error')), null);
});

test('states outlive a reload with the same settings, and start afresh when they change', () => {
  const states = new DeploymentStates();
  const first = states.stateFor('gpu-1', settings);
  assert.equal(states.stateFor('gpu-1', settings), first);
  assert.notEqual(states.stateFor('gpu-1', { ...settings, rpm: 10 }), first);
});

test('prompt tokens count as prefill outstanding from sending until the first byte', () => {
  const state = new DeploymentState(settings);
  const first = state.begin(0, 1_200, true, 1_000);
  const second = state.begin(1, 600, true, 500);
  assert.equal(state.prefillOutstanding, 1_500);
  state.firstByte(first, 5);
  assert.equal(state.prefillOutstanding, 500);
  assert.equal(first.firstByteAt, 5);
  state.firstByte(first, 6);
  assert.equal(state.prefillOutstanding, 500, 'a second first byte releases nothing more');
  state.end(first, null, 9, 10);
  assert.equal(state.prefillOutstanding, 500, 'ending after the first byte releases nothing more');
  state.end(second, null, 10, 10);
  assert.equal(state.prefillOutstanding, 0, 'an attempt that ends without a first byte releases its prompt');
});

test('an attempt aborted or failed before its first byte releases its prompt tokens, never below zero', () => {
  const state = new DeploymentState(settings);
  const gone = state.begin(0, 0, true, 700);
  const failed = state.begin(0, 0, false, 300);
  state.end(gone, new GatewayError('client_closed_request'), 1, 0);
  assert.equal(state.prefillOutstanding, 300);
  state.end(failed, new GatewayError('upstream_timeout'), 2, 0);
  state.end(failed, new GatewayError('upstream_timeout'), 3, 0);
  state.firstByte(failed, 4);
  assert.equal(state.prefillOutstanding, 0);
  state.end(state.begin(5, 10, false), null, 6, 0);
  assert.equal(state.prefillOutstanding, 0, 'a call without a prompt estimate counts nothing');
});

test('prefill outstanding survives a reload with the same settings', () => {
  const states = new DeploymentStates();
  const ticket = states.stateFor('gpu-1', settings).begin(0, 0, true, 400);
  const after = states.stateFor('gpu-1', { ...settings });
  assert.equal(after.prefillOutstanding, 400);
  after.firstByte(ticket, 1);
  assert.equal(after.prefillOutstanding, 0);
});
