import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker } from './circuit-breaker.js';

const config = { failures: 3, error_rate: 0.5, window_ms: 10_000, min_requests: 10, open_ms: 1_000, probes: 1 };

test('opens after N failures in a row, lets one probe through when open_ms has passed, closes on its success', () => {
  const breaker = new CircuitBreaker(config);
  breaker.onFailure(0, false);
  breaker.onFailure(1, false);
  assert.equal(breaker.stateAt(2), 'closed');
  breaker.onFailure(2, false);
  assert.equal(breaker.stateAt(3), 'open');
  assert.equal(breaker.allows(500), false);
  assert.equal(breaker.reopensAt(), 1_002);
  assert.equal(breaker.stateAt(1_002), 'half-open');
  assert.equal(breaker.allows(1_002), true);
  const probe = breaker.onSend(1_002);
  assert.equal(probe, true);
  assert.equal(breaker.allows(1_003), false, 'only one probe at a time');
  breaker.onSuccess(1_050, probe);
  assert.equal(breaker.stateAt(1_051), 'closed');
  assert.equal(breaker.allows(1_051), true);
});

test('a failed probe opens the circuit again for open_ms', () => {
  const breaker = new CircuitBreaker(config);
  for (let i = 0; i < 3; i++) breaker.onFailure(i, false);
  const probe = breaker.onSend(2_000);
  breaker.onFailure(2_010, probe);
  assert.equal(breaker.stateAt(2_011), 'open');
  assert.equal(breaker.stateAt(3_010), 'half-open');
});

test('opens on the error rate over the window once enough requests were seen', () => {
  const breaker = new CircuitBreaker({ ...config, failures: 100 });
  for (let i = 0; i < 5; i++) {
    breaker.onSuccess(i * 10, false);
    breaker.onFailure(i * 10 + 5, false);
  }
  assert.equal(breaker.stateAt(100), 'open', '5 of 10 failed');
});

test('failures that have left the window no longer count', () => {
  const breaker = new CircuitBreaker({ ...config, failures: 100 });
  for (let i = 0; i < 9; i++) breaker.onFailure(i, false);
  for (let i = 0; i < 5; i++) breaker.onSuccess(20_000 + i, false);
  breaker.onFailure(20_010, false);
  assert.equal(breaker.stateAt(20_011), 'closed', 'old failures fell out of the 10 s window');
});

test('successes reset the run of failures; an abandoned probe frees its slot', () => {
  const breaker = new CircuitBreaker(config);
  breaker.onFailure(0, false);
  breaker.onFailure(1, false);
  breaker.onSuccess(2, false);
  breaker.onFailure(3, false);
  assert.equal(breaker.stateAt(4), 'closed');
  breaker.onFailure(4, false);
  breaker.onFailure(5, false);
  const probe = breaker.onSend(1_005);
  breaker.onAbandon(probe);
  assert.equal(breaker.allows(1_006), true);
});

test('health checks: a failure opens the circuit, a pass lets a probe through at once', () => {
  const breaker = new CircuitBreaker(config);
  breaker.forceOpen(100);
  assert.equal(breaker.allows(200), false);
  breaker.healthCheckPassed(300);
  assert.equal(breaker.stateAt(300), 'half-open');
});
