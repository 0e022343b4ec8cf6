#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.js';
import { runCheck } from './check.js';
import { runStart } from './start.js';
import { runAdmin } from './admin.js';
import { UsageError } from './usage-error.js';

const HELP = `Stellwerk — an AI gateway: one OpenAI-compatible endpoint in front of every model.

Usage:
  stellwerk start [--config FILE] [--port N] [--host H] [--watch] [--insecure]
  stellwerk check --config FILE
  stellwerk keys|teams|usage …     (see "stellwerk keys --help")
  stellwerk fleet [--url URL] [--key KEY] [--json]
  stellwerk sim serve|plan|profiles  (see "stellwerk sim --help")
  stellwerk report --month YYYY-MM [--format csv|json|md]   (see "stellwerk report --help")
  stellwerk audit verify|export …    (see "stellwerk audit --help")
  stellwerk --help | --version

Commands:
  start    Serve the gateway. Without --config (or STELLWERK_CONFIG) a built-in config
           serves the model "demo" from the offline simulator.
  check    Validate a config file; prints every problem with file, line and field.
  keys     Create, list, revoke and rotate virtual keys.
  teams    Create, list and delete teams.
  usage    Requests, tokens and spend by key, team, model or day.
  fleet    Self-hosted inference servers: queue, KV cache, adapters, share of traffic.
  sim      Simulated inference servers (vLLM stand-ins) and capacity planning.
  report   Monthly report per team and model: cost, energy, CO₂e, energy-strategy savings.
  audit    Verify the audit log's hash chain and checkpoints; export entries for an auditor.

Options:
  -c, --config FILE   Config file (YAML). Env: STELLWERK_CONFIG
  -p, --port N        Port to listen on (overrides the config). Env: STELLWERK_PORT
      --host H        Address to bind (overrides the config). Env: STELLWERK_HOST
      --watch         Reload the config when its file changes (SIGHUP always reloads).
      --insecure      Allow binding a non-loopback address without auth.master_key.
  -h, --help          Show this help.
  -v, --version       Show the version.
`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Commands with their own arguments and help, loaded when used so `start` pays for none of them.
 * Each takes the arguments after its name and returns the exit code.
 */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<(args: string[]) => Promise<number>>>> = {
  keys: async () => (args) => runAdmin('keys', args),
  teams: async () => (args) => runAdmin('teams', args),
  usage: async () => (args) => runAdmin('usage', args),
  fleet: async () => (await import('./fleet.js')).runFleet,
  sim: async () => (await import('./sim.js')).runSim,
  report: async () => (await import('./report.js')).runReport,
  audit: async () => (await import('./audit.js')).runAudit,
};

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const subcommand = first === undefined ? undefined : SUBCOMMANDS[first];
  if (subcommand !== undefined && Object.hasOwn(SUBCOMMANDS, first!)) {
    try {
      return await (await subcommand())(argv.slice(1));
    } catch (error) {
      if (error instanceof UsageError || error instanceof ConfigError) {
        process.stderr.write(`stellwerk: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        watch: { type: 'boolean' },
        insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    process.stderr.write(`stellwerk: ${(error as Error).message}\nRun "stellwerk --help" for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`stellwerk ${version()}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'start';
  if (positionals.length > 1) {
    process.stderr.write(`stellwerk: unexpected argument "${positionals[1]}"\n`);
    return 2;
  }
  try {
    switch (command) {
      case 'start':
        return await runStart(values);
      case 'check':
        return runCheck(values.config ?? process.env.STELLWERK_CONFIG);
      default:
        process.stderr.write(`stellwerk: unknown command "${command}"\nRun "stellwerk --help" for usage.\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stellwerk: invalid config\n${error.message}\n`);
      return 1;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`stellwerk: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`stellwerk: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
