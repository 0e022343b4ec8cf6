import { loadConfigFile } from '../config/load.js';
import { RouteTable } from '../routing/route-table.js';
import { UsageError } from './usage-error.js';

/** `stellwerk check --config FILE`: validates; ConfigError (thrown) carries file, line and field. */
export function runCheck(path: string | undefined): number {
  if (path === undefined) throw new UsageError('check needs --config FILE');
  const config = loadConfigFile(path);
  const routes = RouteTable.build(config);
  void routes.close();
  const deployments = config.models.reduce((sum, model) => sum + model.deployments.length, 0);
  process.stdout.write(`${path}: ok — ${config.models.length} model(s), ${deployments} deployment(s)\n`);
  for (const warning of routes.warnings) process.stdout.write(`warning: ${warning}\n`);
  return 0;
}
