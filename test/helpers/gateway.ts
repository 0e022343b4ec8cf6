import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/server/gateway.js';
import { createLogger } from '../../src/telemetry/logger.js';

/**
 * How long a test waits for the request-log writer. Its thread runs as SCHED_IDLE (the default
 * `request_log_priority: background`): while other test files keep both cores of a small host
 * busy, it can wait seconds for a free one.
 */
export const WRITER_WAIT_MS = 30_000;

export interface RunningGateway {
  readonly gateway: Gateway;
  /** e.g. http://127.0.0.1:12345 */
  readonly url: string;
  /** Every log line the gateway wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a gateway in this process on an ephemeral loopback port, from YAML config text. */
export async function startGateway(yaml: string, env: Record<string, string | undefined> = process.env): Promise<RunningGateway> {
  const parsed = parseConfig(yaml, 'test-config.yaml', env);
  // Tests keep their governance store in memory unless their config names one.
  const config =
    parsed.governance.database_url === undefined && parsed.governance.sqlite_path === './data/stellwerk.db'
      ? { ...parsed, governance: { ...parsed.governance, sqlite_path: ':memory:' } }
      : parsed;
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const gateway = new Gateway(config, { logger: createLogger('debug', sink) });
  const address = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url: `http://127.0.0.1:${address.port}`,
    logs,
    close: () => gateway.shutdown(1_000),
  };
}

/**
 * Config lines (YAML, from `resilience:` on) for a model `main` whose one deployment always fails
 * (the emulator's fail-500 model) and falls back to `backup`, which answers: one request, two
 * upstream attempts. More models can follow as further `  - name:` items.
 */
export function fallbackModelsYaml(emulatorUrl: string): string {
  return `resilience:
  retry: { attempts: 1, initial_backoff_ms: 1, max_backoff_ms: 2 }
models:
  - name: main
    fallbacks: [backup]
    deployments:
      - { provider: openai-compatible, name: failing, base_url: ${emulatorUrl}, model: fail-500 }
  - name: backup
    deployments:
      - { provider: openai-compatible, name: healthy, base_url: ${emulatorUrl}, model: emu-model }
`;
}

/** One admin API call with `key` as bearer token: the status and the JSON answer. */
export async function adminCall(running: RunningGateway, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(running.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
