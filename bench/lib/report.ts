import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, arch, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.js';
import type { MachineCpu, ProcessUsage } from './sampler.js';
import { round } from './sampler.js';
import type { Mode, TargetName } from './targets.js';

export interface CaseResult {
  readonly kind: 'throughput' | 'fixed-rate';
  readonly target: TargetName;
  readonly mode: Mode;
  readonly load: LoadResult;
  /** The target process (for `direct`, the upstream itself). */
  readonly process: ProcessUsage & { readonly cpu_us_per_request: number | null; readonly loop_cpu_us_per_request: number | null };
  /** What else ran on the machine meanwhile. */
  readonly machine: MachineCpu;
  /** How late the load generator's own event loop ran (its stalls show up as latency of every target). */
  readonly load_generator: { readonly loop_delay_p99_ms: number; readonly loop_delay_max_ms: number };
  /**
   * How late Stellwerk's own event loop ran, worst slice, from its /metrics (prom-client's
   * event-loop lag, sampled every 10 ms, the tick taken off); null for the other targets. A
   * stall here and not in the load generator is the gateway's; one in both is the host's.
   */
  readonly gateway_loop: { readonly lag_p99_ms: number; readonly lag_max_ms: number } | null;
  /** Stellwerk: the longest its request log took to write what was queued when one of its slices ended. */
  readonly request_log_drain_ms: number | null;
  /** This case's p50/p99 minus the direct case's of the same kind and mode; null for direct. */
  added_latency_ms: { p50: number; p99: number } | null;
}

export interface Settings {
  readonly duration_s: number;
  readonly warmup_s: number;
  readonly connections: number;
  readonly fixed_rate: number;
  readonly fixed_rate_mode: 'paced' | 'autocannon';
  /** Only this kind of case was run; null: all. */
  readonly only: 'throughput' | 'fixed-rate' | null;
  /** The scenarios run (BENCH_SCENARIOS): core (the cases above), chaos, governance, pii. */
  readonly scenarios: readonly ('core' | 'chaos' | 'governance' | 'pii')[];
}

export const THROUGHPUT_RATIO_TARGET = 0.7;
export const ADDED_P99_TARGET_MS = 1;
/** Other processes' CPU (in % of one core) above which a case's numbers are flagged as shared. */
export const NOISE_CPU_PERCENT = 10;
/** A load-generator stall (ms) that makes a fixed-rate case's p99 suspect. */
export const NOISE_LOOP_DELAY_MS = 10;

export interface Summary {
  /** Null where the cases were not run (BENCH_ONLY). */
  readonly throughput_ratio: Record<Mode, { ratio: number | null; target: number; pass: boolean | null }>;
  /**
   * Bare hop's CPU µs per answer ÷ Stellwerk's, per mode: the throughput ratio each would reach
   * with a core of its own. Steadier than the throughput ratio on a small or shared machine.
   */
  readonly cpu_cost_ratio: Record<Mode, number | null>;
  /**
   * The same for the event loop alone (the main thread's CPU per answer). Where the load keeps
   * the event loop busy, this bounds the throughput ratio; the other threads share the rest of
   * the machine with the load generator and the upstream.
   */
  readonly loop_cost_ratio: Record<Mode, number | null>;
  readonly fixed_rate: {
    readonly rate: number;
    readonly added_p50_ms: Record<'bare-hop' | 'stellwerk', number | null>;
    readonly added_p99_ms: Record<'bare-hop' | 'stellwerk', number | null>;
    readonly target_p99_added_ms: number;
    readonly pass: boolean | null;
  };
  readonly responses: number;
  /** Cases during which other processes used more than NOISE_CPU_PERCENT of a core. */
  readonly noisy_cases: readonly string[];
  readonly all_200: boolean;
  readonly problems: readonly string[];
}

export function findCase(cases: readonly CaseResult[], kind: CaseResult['kind'], target: TargetName, mode: Mode): CaseResult | undefined {
  return cases.find((c) => c.kind === kind && c.target === target && c.mode === mode);
}

/** Fills in each case's latency added over the direct case of the same kind and mode. */
export function addLatencyOverDirect(cases: CaseResult[]): void {
  for (const c of cases) {
    if (c.target === 'direct') continue;
    const direct = findCase(cases, c.kind, 'direct', c.mode);
    if (direct === undefined) continue;
    c.added_latency_ms = {
      p50: round(c.load.latency_ms.p50 - direct.load.latency_ms.p50, 3),
      p99: round(c.load.latency_ms.p99 - direct.load.latency_ms.p99, 3),
    };
  }
}

export function summarise(cases: readonly CaseResult[], settings: Settings): Summary {
  const ratio = (mode: Mode) => {
    const stellwerk = findCase(cases, 'throughput', 'stellwerk', mode)?.load.requests_per_s;
    const bare = findCase(cases, 'throughput', 'bare-hop', mode)?.load.requests_per_s;
    const value = stellwerk === undefined || bare === undefined || bare === 0 ? null : round(stellwerk / bare, 3);
    return { ratio: value, target: THROUGHPUT_RATIO_TARGET, pass: value === null ? null : value >= THROUGHPUT_RATIO_TARGET };
  };
  const costRatio = (mode: Mode, measure: 'cpu_us_per_request' | 'loop_cpu_us_per_request') => {
    const stellwerk = findCase(cases, 'throughput', 'stellwerk', mode)?.process[measure];
    const bare = findCase(cases, 'throughput', 'bare-hop', mode)?.process[measure];
    return stellwerk == null || bare == null || stellwerk === 0 ? null : round(bare / stellwerk, 3);
  };
  const added = (target: 'bare-hop' | 'stellwerk') => findCase(cases, 'fixed-rate', target, 'non-stream')?.added_latency_ms ?? null;
  const stellwerkP99 = added('stellwerk')?.p99 ?? null;
  const problems: string[] = [];
  let responses = 0;
  for (const c of cases) {
    responses += c.load.responses;
    const { non_200, errors, timeouts, status_counts } = c.load;
    if (non_200 > 0 || errors > 0 || timeouts > 0) {
      problems.push(`${c.kind} ${c.target} ${c.mode}: ${non_200} non-200 (${JSON.stringify(status_counts)}), ${errors} errors, ${timeouts} timeouts`);
    }
  }
  return {
    throughput_ratio: { 'non-stream': ratio('non-stream'), stream: ratio('stream') },
    cpu_cost_ratio: { 'non-stream': costRatio('non-stream', 'cpu_us_per_request'), stream: costRatio('stream', 'cpu_us_per_request') },
    loop_cost_ratio: { 'non-stream': costRatio('non-stream', 'loop_cpu_us_per_request'), stream: costRatio('stream', 'loop_cpu_us_per_request') },
    fixed_rate: {
      rate: settings.fixed_rate,
      added_p50_ms: { 'bare-hop': added('bare-hop')?.p50 ?? null, stellwerk: added('stellwerk')?.p50 ?? null },
      added_p99_ms: { 'bare-hop': added('bare-hop')?.p99 ?? null, stellwerk: stellwerkP99 },
      target_p99_added_ms: ADDED_P99_TARGET_MS,
      pass: stellwerkP99 === null ? null : stellwerkP99 <= ADDED_P99_TARGET_MS,
    },
    responses,
    noisy_cases: cases.filter(isNoisy).map(
      (c) =>
        `${c.kind} ${c.target} ${c.mode}: other processes ${c.machine.other_cpu_percent}%, steal ${c.machine.steal_percent}%, ` +
        `load generator stalled up to ${c.load_generator.loop_delay_max_ms} ms`,
    ),
    all_200: problems.length === 0,
    problems,
  };
}

/** Shared CPU, or (at a fixed rate, where latency is the point) a stalled load generator. */
function isNoisy(c: CaseResult): boolean {
  if ((c.machine.other_cpu_percent ?? 0) + (c.machine.steal_percent ?? 0) > NOISE_CPU_PERCENT) return true;
  return c.kind === 'fixed-rate' && c.load_generator.loop_delay_max_ms > NOISE_LOOP_DELAY_MS;
}

export function machineInfo(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    cpu_model: cpuList[0]?.model ?? 'unknown',
    cpu_count: cpuList.length,
    total_memory_mb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    load_average_at_start: loadavg().map((value) => round(value, 2)),
  };
}

export function gitInfo(root: string): Record<string, unknown> {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit, src_dirty: dirty.length > 0 };
  } catch {
    return { commit: null, src_dirty: null };
  }
}

/** Writes `<timestamp>.json` and `latest.json`; returns the timestamped path. */
export function writeResults(dir: string, startedAt: Date, results: unknown): string {
  mkdirSync(dir, { recursive: true });
  // An ISO timestamp with ':' and '.' as '-', so the name is valid on every file system.
  const name = `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
  const text = JSON.stringify(results, null, 2) + '\n';
  writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'latest.json'), text);
  return join(dir, name);
}

const LABEL: Record<TargetName, string> = { direct: 'direct', 'bare-hop': 'bare hop', stellwerk: 'stellwerk' };

export function formatReport(cases: readonly CaseResult[], summary: Summary, settings: Settings): string {
  const header = ['target', 'mode', 'req/s', 'p50 ms', 'p99 ms', '+p50 ms', '+p99 ms', 'RSS MB', 'CPU %', 'CPU µs/req', 'loop µs/req', 'other CPU %'];
  const row = (c: CaseResult) => [
    LABEL[c.target],
    c.mode,
    c.load.requests_per_s.toFixed(0),
    c.load.latency_ms.p50.toFixed(3),
    c.load.latency_ms.p99.toFixed(3),
    c.added_latency_ms === null ? '-' : signed(c.added_latency_ms.p50),
    c.added_latency_ms === null ? '-' : signed(c.added_latency_ms.p99),
    c.process.rss_peak_mb === null ? '?' : c.process.rss_peak_mb.toFixed(1),
    c.process.cpu_percent === null ? '?' : c.process.cpu_percent.toFixed(0),
    c.process.cpu_us_per_request === null ? '?' : c.process.cpu_us_per_request.toFixed(0),
    c.process.loop_cpu_us_per_request == null ? '?' : c.process.loop_cpu_us_per_request.toFixed(0),
    c.machine.other_cpu_percent === null ? '?' : c.machine.other_cpu_percent.toFixed(0),
  ];
  const throughput = cases.filter((c) => c.kind === 'throughput');
  const fixed = cases.filter((c) => c.kind === 'fixed-rate');
  const lines: string[] = [];
  if (throughput.length > 0) {
    lines.push(`Throughput: ${settings.connections} connections, as fast as possible, ${settings.duration_s} s per case (after ${settings.warmup_s} s warm-up)`);
    lines.push(...table(header, throughput.map(row)), '');
  }
  if (fixed.length > 0) {
    lines.push(`Fixed rate: ${settings.fixed_rate} req/s (${settings.fixed_rate_mode}), non-stream, ${settings.connections} connections, ${settings.duration_s} s`);
    lines.push(...table(header, fixed.map(row)), '');
  }
  lines.push('+p50/+p99: latency added over the direct case (difference of percentiles). RSS: peak of the target process.');
  lines.push('CPU %: the target process, in % of one core; CPU µs/req: its CPU time per answer, loop µs/req: that of its main thread');
  lines.push('(the event loop) alone. Other CPU %: the rest of the machine (not the benchmark, not its children) meanwhile; much');
  lines.push('above 0 means the numbers were shared with something else.');
  lines.push('');
  for (const mode of ['non-stream', 'stream'] as const) {
    const r = summary.throughput_ratio[mode];
    if (r.ratio === null) continue;
    const cost = summary.cpu_cost_ratio[mode];
    const loop = summary.loop_cost_ratio[mode];
    lines.push(
      `Stellwerk / bare hop throughput, ${mode.padEnd(10)}: ${r.ratio.toFixed(3)}  (target >= ${r.target}: ${r.pass ? 'PASS' : 'FAIL'})` +
        (cost === null ? '' : `   by CPU per answer: ${cost.toFixed(3)}`) +
        (loop === null ? '' : `, event loop's: ${loop.toFixed(3)}`),
    );
  }
  const f = summary.fixed_rate;
  if (f.pass !== null) {
    lines.push(
      `Added p99 latency at ${f.rate} req/s: stellwerk ${fmt(f.added_p99_ms.stellwerk)} ms (target <= ${f.target_p99_added_ms} ms: ${f.pass ? 'PASS' : 'FAIL'}), bare hop ${fmt(f.added_p99_ms['bare-hop'])} ms`,
    );
    const own = cases.find((c) => c.kind === 'fixed-rate' && c.target === 'stellwerk')?.gateway_loop;
    if (own) lines.push(`  Stellwerk's own event loop at that rate: late by up to ${own.lag_p99_ms} ms at p99, ${own.lag_max_ms} ms at most (sampled every 10 ms)`);
  }
  if (summary.noisy_cases.length > 0) {
    lines.push(
      `Machine was NOT quiet (other processes + steal > ${NOISE_CPU_PERCENT}% of a core, or at the fixed rate a load-generator stall > ${NOISE_LOOP_DELAY_MS} ms) during:`,
    );
    for (const noisy of summary.noisy_cases) lines.push(`  ${noisy}`);
  }
  if (summary.all_200) {
    lines.push(`Responses: all ${summary.responses.toLocaleString('en-US')} answered 200; no errors, no timeouts.`);
  } else {
    lines.push(`Responses: ${summary.responses.toLocaleString('en-US')}, with PROBLEMS:`);
    for (const problem of summary.problems) lines.push(`  ${problem}`);
  }
  return lines.join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  // Text columns left-aligned, numbers right-aligned.
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function signed(value: number): string {
  return (value >= 0 ? '+' : '') + value.toFixed(3);
}

function fmt(value: number | null): string {
  return value === null ? '?' : signed(value);
}
