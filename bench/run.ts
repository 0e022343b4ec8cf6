/**
 * `npm run bench`: Stellwerk against a zero-latency upstream, next to the same upstream called
 * directly and through a bare Node proxy (the floor). See bench/README.md.
 *
 * Environment: BENCH_DURATION (s per case, default 10), BENCH_WARMUP (s, default 2),
 * BENCH_CONNECTIONS (default 32), BENCH_RATE (fixed-rate case, default 500),
 * BENCH_RATE_MODE (paced | autocannon, default paced), BENCH_STELLWERK_NODE_ARGS (extra node
 * flags for Stellwerk's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_KEEP_TMP=1
 * (keep the temp folder with config, log and stderr files), BENCH_ONLY (throughput | fixed-rate:
 * run only those cases of the core scenario), BENCH_SCENARIOS (comma-separated: core, chaos,
 * governance, pii; default all four), BENCH_PII_* (see bench/pii.ts), BENCH_CHAOS_DELAY_MS (default 2), BENCH_CHAOS_SLOW_DELAY_MS
 * (default 5 × the delay), BENCH_CHAOS_FAIL_RATE (default 0.3),
 * BENCH_CHAOS_PRIORITY_MAX_CONCURRENCY (default 8).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcesses } from './lib/children.js';
import { LoadAccumulator, runLoad, type FixedRate, type LoadSpec } from './lib/load.js';
import {
  addLatencyOverDirect,
  formatReport,
  gitInfo,
  machineInfo,
  summarise,
  writeResults,
  type CaseResult,
  type Settings,
} from './lib/report.js';
import { MachineCpuMeter, ProcessSampler, round } from './lib/sampler.js';
import { chaosSettings, formatChaos, formatGovernance, runChaos, runGovernance, SCENARIOS, type ChaosResult, type GovernanceResult, type ScenarioName } from './lib/scenarios.js';
import { checkAnswer, MODES, REQUEST_BODIES, startFlags, startTargets, TARGETS, type Mode, type Target } from './lib/targets.js';
import { envNumber } from './lib/env.js';
import { httpText, requestLogDrained } from './lib/http.js';
import { formatPii, piiSettings, runPiiBench, type PiiBenchResult } from './pii.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function readSettings(): Settings {
  const mode = process.env.BENCH_RATE_MODE ?? 'paced';
  if (mode !== 'paced' && mode !== 'autocannon') throw new Error(`BENCH_RATE_MODE must be paced or autocannon, got "${mode}"`);
  const only = process.env.BENCH_ONLY || null;
  if (only !== null && only !== 'throughput' && only !== 'fixed-rate') throw new Error(`BENCH_ONLY must be throughput or fixed-rate, got "${only}"`);
  const scenarios = (process.env.BENCH_SCENARIOS || SCENARIOS.join(',')).split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  for (const name of scenarios) {
    if (!SCENARIOS.includes(name as ScenarioName)) throw new Error(`BENCH_SCENARIOS must list some of ${SCENARIOS.join(', ')}, got "${name}"`);
  }
  return {
    scenarios: SCENARIOS.filter((name) => scenarios.includes(name)),
    duration_s: envNumber('BENCH_DURATION', 10, 1),
    warmup_s: envNumber('BENCH_WARMUP', 2, 0),
    connections: Math.round(envNumber('BENCH_CONNECTIONS', 32, 1)),
    fixed_rate: Math.round(envNumber('BENCH_RATE', 500, 1)),
    fixed_rate_mode: mode,
    only,
  };
}

interface CaseSpec {
  readonly kind: CaseResult['kind'];
  readonly target: Target;
  readonly mode: Mode;
  readonly rate?: FixedRate;
}

/**
 * Cases that are compared take turns in slices of about this many seconds: the fixed-rate ones,
 * and the throughput ones of one mode (direct, bare hop, Stellwerk). The hosts this runs on have
 * slow and fast phases lasting seconds (other tenants, CPU steal); measured one after the other,
 * a phase could fall on one target alone and move the ratio by more than any change in the code.
 */
const FIXED_RATE_SLICE_S = 1;
const THROUGHPUT_SLICE_S = 2;

/** One case's load, process, machine and load-generator numbers, over one or more slices. */
class CaseMeasurement {
  private readonly load = new LoadAccumulator();
  private readonly process: ProcessSampler;
  private readonly machine: MachineCpuMeter;
  /**
   * The load generator's event-loop delay in ms, worst slice (one monitor per slice: a monitor
   * enabled again counts the pause as delay, and Node cannot merge them).
   */
  private readonly loopDelay = { p99: 0, max: 0 };
  /** Stellwerk's own event-loop lag in ms, worst slice; null for the other targets. */
  private readonly gatewayLoop: { p99: number; max: number } | null;
  /** The longest wait for the request log to drain after a slice (Stellwerk only). */
  private drainMs = 0;

  constructor(
    readonly spec: CaseSpec,
    private readonly settings: Settings,
    children: ChildProcesses,
  ) {
    this.process = new ProcessSampler(spec.target.child.pid);
    this.machine = new MachineCpuMeter(() => children.pids());
    this.gatewayLoop = spec.target.name === 'stellwerk' ? { p99: 0, max: 0 } : null;
  }

  get label(): string {
    const { kind, target, mode, rate } = this.spec;
    return `${kind} ${target.name} ${mode}${rate ? ` @${rate.perSecond}/s` : ''}`;
  }

  async warmUp(): Promise<void> {
    if (this.settings.warmup_s > 0) await runLoad(this.loadSpec(this.settings.warmup_s));
    if (this.gatewayLoop !== null) await requestLogDrained(this.spec.target.child.baseUrl);
  }

  async measure(durationS: number): Promise<void> {
    // Reading /metrics resets the gateway's lag histogram: this read starts the slice's, outside the measured time.
    if (this.gatewayLoop !== null) await gatewayLoopLag(this.spec.target);
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    this.process.start();
    this.machine.start();
    loopDelay.enable();
    try {
      await runLoad(this.loadSpec(durationS), this.load);
    } finally {
      loopDelay.disable();
      this.loopDelay.p99 = Math.max(this.loopDelay.p99, loopDelay.percentile(99) / 1e6);
      this.loopDelay.max = Math.max(this.loopDelay.max, loopDelay.max / 1e6);
      this.machine.pause();
      this.process.pause();
    }
    if (this.gatewayLoop !== null) {
      const lag = await gatewayLoopLag(this.spec.target);
      this.gatewayLoop.p99 = Math.max(this.gatewayLoop.p99, lag.p99);
      this.gatewayLoop.max = Math.max(this.gatewayLoop.max, lag.max);
      this.drainMs = Math.max(this.drainMs, await requestLogDrained(this.spec.target.child.baseUrl));
    }
  }

  result(): CaseResult {
    const load = this.load.result();
    const usage = this.process.result();
    const perRequest = (percent: number | null) => (percent === null || load.requests_per_s === 0 ? null : round((percent / 100 / load.requests_per_s) * 1e6, 1));
    return {
      kind: this.spec.kind,
      target: this.spec.target.name,
      mode: this.spec.mode,
      load,
      process: { ...usage, cpu_us_per_request: perRequest(usage.cpu_percent), loop_cpu_us_per_request: perRequest(usage.loop_cpu_percent) },
      machine: this.machine.result(),
      load_generator: { loop_delay_p99_ms: round(this.loopDelay.p99, 2), loop_delay_max_ms: round(this.loopDelay.max, 2) },
      gateway_loop: this.gatewayLoop === null ? null : { lag_p99_ms: round(this.gatewayLoop.p99, 2), lag_max_ms: round(this.gatewayLoop.max, 2) },
      request_log_drain_ms: this.gatewayLoop === null ? null : round(this.drainMs, 0),
      added_latency_ms: null,
    };
  }

  private loadSpec(durationS: number): LoadSpec {
    const { target, mode, rate } = this.spec;
    return { url: target.url, body: REQUEST_BODIES[mode], connections: this.settings.connections, durationS, rate };
  }
}

/**
 * prom-client samples the event loop with a timer of this period (its default, which Stellwerk
 * keeps) and reports the time between ticks, so a loop that is never late shows this much.
 */
const GATEWAY_LAG_TICK_MS = 10;

/**
 * The gateway's event-loop delay (ms beyond the sampling tick) since /metrics was last read:
 * prom-client's lag gauges, which it resets at each read.
 */
async function gatewayLoopLag(target: Target): Promise<{ p99: number; max: number }> {
  const { status, body } = await httpText('GET', `${target.child.baseUrl}/metrics`, {}, undefined, 10_000);
  if (status !== 200) throw new Error(`GET /metrics of ${target.name} answered ${status}`);
  const seconds = (name: string): number => {
    const match = new RegExp(`^stellwerk_process_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
    if (match === null) throw new Error(`GET /metrics of ${target.name} has no stellwerk_process_nodejs_eventloop_lag_${name}_seconds`);
    return Math.max(0, Number(match[1]) * 1000 - GATEWAY_LAG_TICK_MS);
  };
  return { p99: seconds('p99'), max: seconds('max') };
}

function reportProgress(result: CaseResult, label: string): void {
  const { requests_per_s, latency_ms } = result.load;
  process.stderr.write(`  ${label.padEnd(40)} ${requests_per_s.toFixed(0).padStart(7)} req/s  p50 ${latency_ms.p50.toFixed(3)} ms  p99 ${latency_ms.p99.toFixed(3)} ms\n`);
}

/**
 * Cases measured in turns (direct, bare hop, Stellwerk, then again starting one further on, …)
 * so that a noisy moment on the machine hits all targets alike, not one of them. Each is warmed
 * up first; every case gets `settings.duration_s` in all.
 */
async function runInTurns(specs: readonly CaseSpec[], settings: Settings, children: ChildProcesses, sliceS: number): Promise<CaseResult[]> {
  const measurements = specs.map((spec) => new CaseMeasurement(spec, settings, children));
  for (const measurement of measurements) {
    await measurement.warmUp();
    children.assertAlive();
  }
  const rounds = Math.max(1, Math.round(settings.duration_s / sliceS));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < measurements.length; i++) {
      await measurements[(i + round) % measurements.length]!.measure(settings.duration_s / rounds);
      children.assertAlive();
    }
  }
  return measurements.map((measurement) => {
    const result = measurement.result();
    reportProgress(result, measurement.label);
    return result;
  });
}

/** The run's temp folder (config, Stellwerk's log, stderr files); removed unless the run failed. */
let tmp: string | null = null;

async function main(children: ChildProcesses): Promise<number> {
  const settings = readSettings();
  const startedAt = new Date();
  tmp = mkdtempSync(join(tmpdir(), 'stellwerk-bench-'));
  const nodeArgs = [...startFlags(ROOT), ...(process.env.BENCH_STELLWERK_NODE_ARGS ?? '').split(/\s+/).filter((arg) => arg.length > 0)];
  process.stderr.write(`Scenarios: ${settings.scenarios.join(', ')} (temp files in ${tmp})\n`);
  // In process and first, while none of the benchmark's children use the cores.
  let pii: PiiBenchResult | null = null;
  if (settings.scenarios.includes('pii')) pii = runPiiBench(piiSettings(envNumber), (line) => process.stderr.write(`${line}\n`));
  const cases: CaseResult[] = [];
  let stellwerkInfo: Record<string, unknown> | null = null;
  if (settings.scenarios.includes('core')) {
    process.stderr.write(`Starting upstream, bare hop and Stellwerk\n`);
    const started = await startTargets(children, { root: ROOT, tmp, stellwerkNodeArgs: nodeArgs });
    const { targets } = started;
    for (const target of TARGETS) for (const mode of MODES) await checkAnswer(targets[target], mode);

    const rate: FixedRate = { perSecond: settings.fixed_rate, mode: settings.fixed_rate_mode };
    const specs: CaseSpec[] = [];
    for (const mode of MODES) for (const target of TARGETS) specs.push({ kind: 'throughput', target: targets[target], mode });
    for (const target of TARGETS) specs.push({ kind: 'fixed-rate', target: targets[target], mode: 'non-stream', rate });
    const selected = settings.only === null ? specs : specs.filter((spec) => spec.kind === settings.only);
    const perCase = settings.warmup_s + settings.duration_s;
    process.stderr.write(`Running ${selected.length} cases of ${perCase} s each (about ${Math.ceil((selected.length * perCase) / 60)} min)\n`);
    for (const mode of MODES) {
      const throughput = selected.filter((spec) => spec.kind === 'throughput' && spec.mode === mode);
      if (throughput.length > 0) cases.push(...(await runInTurns(throughput, settings, children, THROUGHPUT_SLICE_S)));
    }
    const fixedRate = selected.filter((spec) => spec.kind === 'fixed-rate');
    if (fixedRate.length > 0) cases.push(...(await runInTurns(fixedRate, settings, children, FIXED_RATE_SLICE_S)));
    addLatencyOverDirect(cases);
    stellwerkInfo = {
      node_args: nodeArgs,
      log_level: 'info',
      log_bytes: statSync(started.stellwerkLog).size,
      ready_ms: round(started.readyMs.stellwerk, 1),
    };
    // The other scenarios start their own processes; these would only take memory.
    await children.stop(TARGETS.map((target) => targets[target].child));
  }
  const summary = summarise(cases, settings);

  const context = { root: ROOT, tmp, settings, children, stellwerkNodeArgs: nodeArgs };
  let chaos: ChaosResult | null = null;
  if (settings.scenarios.includes('chaos')) chaos = await runChaos(context, chaosSettings(envNumber));
  let governance: GovernanceResult | null = null;
  if (settings.scenarios.includes('governance')) governance = await runGovernance(context);

  const finishedAt = new Date();
  const results = {
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    machine: machineInfo(),
    git: gitInfo(ROOT),
    settings,
    stellwerk: stellwerkInfo,
    summary,
    cases,
    chaos,
    governance,
    pii,
  };
  const file = writeResults(join(ROOT, 'bench/results'), startedAt, results);
  const report: string[] = [];
  if (cases.length > 0) report.push(formatReport(cases, summary, settings));
  if (chaos !== null) report.push(formatChaos(chaos, settings));
  if (governance !== null) report.push(formatGovernance(governance, settings));
  if (pii !== null) report.push(formatPii(pii));
  process.stdout.write(`\n${report.join('\n\n')}\n\n`);
  process.stdout.write(`Results: ${file} (and bench/results/latest.json)\n`);
  // Wrong answers fail the benchmark: core non-200s, governance refusals, connection errors anywhere.
  // A chaos strategy below 100% (or a PII scan above its target) is reported as FAIL of that target, not of the benchmark.
  const problems = [...(chaos?.problems ?? []), ...(governance?.problems ?? [])];
  return summary.all_200 && problems.length === 0 ? 0 : 1;
}

const children = new ChildProcesses();
process.once('exit', () => children.killAllNow());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
    void children.stopAll(2_000).finally(() => {
      if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

let exitCode = 1;
try {
  exitCode = await main(children);
} catch (error) {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
} finally {
  await children.stopAll();
}
if (tmp !== null) {
  if (exitCode !== 0 || process.env.BENCH_KEEP_TMP === '1') process.stderr.write(`Temp files kept in ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
