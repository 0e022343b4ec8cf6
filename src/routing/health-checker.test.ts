import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../telemetry/logger.js';
import { startFaultUpstream } from '../../test/emulators/fault-upstream.js';
import { HealthChecker } from './health-checker.js';
import { RouteTable } from './route-table.js';

const upstream = await startFaultUpstream('checked');
after(() => upstream.close());

test('a failing health check opens the circuit; a passing one lets it probe at once', async () => {
  const config = parseConfig(
    `models:\n  - name: m\n    deployments:\n      - { provider: openai-compatible, name: gpu, base_url: ${upstream.url}, model: m, health_check: { path: /health, interval_ms: 60000 } }\n`,
    'test',
    {},
  );
  const routes = RouteTable.build(config);
  after(() => routes.close());
  assert.equal(routes.healthChecks.length, 1);
  const { deployment, settings } = routes.healthChecks[0]!;
  const checker = new HealthChecker(routes.healthChecks, createLogger('silent'));

  upstream.mode = { kind: 'status', status: 503 };
  assert.equal(await checker.checkOnce(deployment, settings), false);
  assert.equal(deployment.state.breaker.stateAt(Date.now()), 'open');
  assert.equal(deployment.isAvailable(Date.now(), 0), false);

  upstream.mode = { kind: 'ok' };
  assert.equal(await checker.checkOnce(deployment, settings), true);
  assert.equal(deployment.state.breaker.stateAt(Date.now()), 'half-open');
  assert.equal(deployment.isAvailable(Date.now(), 0), true);
});
