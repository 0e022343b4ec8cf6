import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isIP } from 'node:net';
import { builtinConfig } from '../config/builtin.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Gateway } from '../server/gateway.js';
import { UsageError } from './usage-error.js';

export interface StartOptions {
  config?: string;
  port?: string;
  host?: string;
  watch?: boolean;
  insecure?: boolean;
}

/** `stellwerk start`: serves until SIGTERM/SIGINT, reloads on SIGHUP (and file changes with --watch). */
export async function runStart(options: StartOptions): Promise<number> {
  const configPath = options.config ?? process.env.STELLWERK_CONFIG ?? null;
  const config = configPath === null ? builtinConfig() : loadConfigFile(configPath);
  const port = parsePort(options.port ?? process.env.STELLWERK_PORT) ?? config.server.port;
  const host = options.host ?? process.env.STELLWERK_HOST ?? config.server.host;
  if (!isLoopback(host) && config.auth.master_key === undefined && !options.insecure) {
    throw new UsageError(
      `refusing to listen on ${host} without auth.master_key: anyone who can reach it could use your models. ` +
        'Set auth.master_key (e.g. master_key: ${STELLWERK_MASTER_KEY}), bind 127.0.0.1, or pass --insecure.',
    );
  }
  const gateway = new Gateway(config);
  const reload = (why: string) => {
    if (configPath === null) return;
    let next: Config;
    try {
      next = loadConfigFile(configPath);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : (error as Error).message;
      gateway.logger.error({ reason: why }, `config not reloaded, the running one stays: ${message}`);
      return;
    }
    gateway.reload(next);
    gateway.logger.info({ reason: why, models: next.models.map((model) => model.name) }, 'config reloaded');
  };
  // Handlers first: a signal that arrives just after the gateway says it listens must not find the default action.
  process.on('SIGHUP', () => reload('SIGHUP'));
  const stopping = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const watcher = options.watch && configPath !== null ? watchFile(configPath, () => reload('file changed')) : null;

  const address = await gateway.listen(port, host).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}`);
  });
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  gateway.logger.info(
    { config: configPath ?? '<built-in>', models: config.models.map((model) => model.name), port: address.port },
    `Stellwerk listening on http://${shown}:${address.port}`,
  );

  const signal = await stopping;
  gateway.logger.info({ signal }, 'shutting down: finishing in-flight requests');
  // A second signal means "now".
  const forceExit = () => process.exit(1);
  process.once('SIGTERM', forceExit);
  process.once('SIGINT', forceExit);
  watcher?.close();
  await gateway.shutdown();
  gateway.logger.info('stopped');
  await new Promise<void>((resolve) => gateway.logger.flush(() => resolve()));
  process.exit(0);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`invalid port "${value}"`);
  return port;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Reloads after the file settles (editors write in several steps). Watches the folder, since
 * many editors replace the file rather than write into it.
 */
function watchFile(path: string, onChange: () => void): FSWatcher {
  let timer: NodeJS.Timeout | null = null;
  const name = basename(path);
  return watch(dirname(path), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, 150);
  });
}
