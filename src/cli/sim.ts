import { parseArgs } from 'node:util';
import { planCapacity, planRequests, PLAN_POLICIES, type FleetRun, type PlanPolicy } from '../sim/planner.js';
import { findProfile, PROFILES } from '../sim/profiles.js';
import { DEFAULT_OUTPUT_TOKENS, startSimServers } from '../sim/server.js';
import { round } from '../sim/stats.js';
import { readTrace, TraceError } from '../sim/trace.js';
import { DEFAULT_WORKLOAD } from '../sim/workload.js';
import { UsageError } from './usage-error.js';

const HELP = `stellwerk sim — simulated inference servers (vLLM stand-ins) and capacity planning.

Usage:
  stellwerk sim serve --profile NAME [--port N] [--count K] [--host H] [--lora A,B] [--default-max-tokens N]
  stellwerk sim plan --trace FILE --profile NAME --slo-ttft-p99 2s [--max-servers N] [--policy P] [--no-prefix-sharing]
  stellwerk sim profiles

  serve      K servers on ports N … N+K-1 (default 8001, 1), each with its own engine, serving
             /v1/chat/completions, /v1/models, /metrics (vLLM names) and /health until Ctrl-C.
  plan       Replays a trace (CSV: TIMESTAMP,ContextTokens,GeneratedTokens) in virtual time against
             1 … N servers (default 16) behind a routing policy (least-queue | round-robin) and
             prints the smallest count whose TTFT p99 meets the SLO (exit 0), or exit 1 if none.
  profiles   Lists the hardware/model profiles.

See docs/simulator.md.
`;

const OPTIONS = {
  profile: { type: 'string' },
  port: { type: 'string' },
  count: { type: 'string' },
  host: { type: 'string' },
  lora: { type: 'string' },
  'default-max-tokens': { type: 'string' },
  trace: { type: 'string' },
  'slo-ttft-p99': { type: 'string' },
  'max-servers': { type: 'string' },
  policy: { type: 'string' },
  'no-prefix-sharing': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/** "2s", "500ms", "1.5" (seconds) → seconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (match === null) throw new UsageError(`--${name} must be a duration like 2s or 500ms, got "${value}"`);
  const seconds = Number(match[1]) / (match[2] === 'ms' ? 1000 : 1);
  if (seconds <= 0) throw new UsageError(`--${name} must be more than zero`);
  return seconds;
}

function profileOf(values: Values) {
  if (values.profile === undefined) throw new UsageError(`--profile is required; one of: ${Object.keys(PROFILES).join(', ')}`);
  try {
    return findProfile(values.profile);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function serve(values: Values): Promise<number> {
  const profile = profileOf(values);
  const count = integer(values.count, 'count', 1, 1, 64);
  const port = integer(values.port, 'port', 8001, 0, 65_535 - count + 1);
  const loras = values.lora === undefined ? [] : values.lora.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const defaultOutputTokens = integer(values['default-max-tokens'], 'default-max-tokens', DEFAULT_OUTPUT_TOKENS, 1, profile.engine.maxModelLen);
  const { servers, urls } = await startSimServers({ profile, loras, defaultOutputTokens }, count, port, values.host ?? '127.0.0.1');
  process.stdout.write(`${profile.name}: ${profile.description}, model "${servers[0]!.servedModel}"\n`);
  for (const url of urls) process.stdout.write(`${url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all(servers.map((server) => server.close()));
  return 0;
}

const ms = (seconds: number) => (Number.isFinite(seconds) ? String(Math.round(seconds * 1000)) : '-');
const pct = (share: number) => `${Math.round(share * 100)}%`;

export function formatRun(run: FleetRun): string {
  return [String(run.servers).padStart(7), ms(run.ttftP50).padStart(13), ms(run.ttftP99).padStart(13), ms(run.e2eP99).padStart(12), pct(run.utilisation).padStart(8), pct(run.busy).padStart(6), pct(run.prefixHitRate).padStart(10), String(run.refused).padStart(8)].join('');
}

export const RUN_HEADER = `${'servers'.padStart(7)}${'ttft p50 ms'.padStart(13)}${'ttft p99 ms'.padStart(13)}${'e2e p99 ms'.padStart(12)}${'kv use'.padStart(8)}${'busy'.padStart(6)}${'cache hit'.padStart(10)}${'refused'.padStart(8)}`;

function plan(values: Values): number {
  const profile = profileOf(values);
  if (values.trace === undefined) throw new UsageError('--trace FILE is required');
  if (values['slo-ttft-p99'] === undefined) throw new UsageError('--slo-ttft-p99 is required (e.g. 2s)');
  const slo = parseDuration(values['slo-ttft-p99'], 'slo-ttft-p99');
  const maxServers = integer(values['max-servers'], 'max-servers', 16, 1, 1_024);
  const policy = (values.policy ?? 'least-queue') as PlanPolicy;
  if (!PLAN_POLICIES.includes(policy)) throw new UsageError(`--policy must be one of ${PLAN_POLICIES.join(', ')}, got "${values.policy}"`);
  let trace;
  try {
    trace = readTrace(values.trace);
  } catch (error) {
    if (error instanceof TraceError) throw new UsageError(`--trace: ${error.message}`);
    throw error;
  }
  const requests = planRequests(trace, profile.engine.blockSize, values['no-prefix-sharing'] ? null : DEFAULT_WORKLOAD);
  const span = trace.at(-1)!.at;
  process.stdout.write(`${trace.length} requests over ${round(span, 1)} s (${round(trace.length / Math.max(span, 1e-9), 2)} req/s) on ${profile.name}, ${policy}, SLO: TTFT p99 <= ${ms(slo)} ms\n\n${RUN_HEADER}\n`);
  const result = planCapacity(requests, profile.engine, { sloTtftP99: slo, maxServers, policy, onRun: (run) => process.stdout.write(`${formatRun(run)}\n`) });
  if (result.servers === undefined) {
    process.stdout.write(`\nNo fleet of up to ${maxServers} servers meets the SLO.\n`);
    return 1;
  }
  process.stdout.write(`\n${result.servers} server${result.servers === 1 ? '' : 's'} meet${result.servers === 1 ? 's' : ''} the SLO.\n`);
  return 0;
}

function profiles(): number {
  for (const profile of Object.values(PROFILES)) {
    const e = profile.engine;
    process.stdout.write(`${profile.name.padEnd(22)}${profile.description}; KV ${e.kvCapacityTokens} tokens, decode step ≥ ${round((e.stepOverheadS + e.weightsReadS) * 1000, 1)} ms, prefill ${Math.round(1 / e.computePerTokenS)} tokens/s\n`);
  }
  return 0;
}

export async function runSim(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun "stellwerk sim --help" for usage.`);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  switch (command) {
    case 'serve':
      return serve(values);
    case 'plan':
      return plan(values);
    case 'profiles':
      return profiles();
    default:
      throw new UsageError(`unknown sim command "${command}"; one of: serve, plan, profiles`);
  }
}
