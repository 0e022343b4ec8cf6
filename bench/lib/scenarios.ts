/**
 * The chaos (routing and resilience) and governance scenarios of `npm run bench`. See
 * bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ChildProcesses, freePort, transpileScript, waitUntilReady, type BenchChild } from './children.js';
import { httpText } from './http.js';
import { LoadAccumulator, runLoad, type LoadResult } from './load.js';
import type { Settings } from './report.js';
import { CLOCK_TICKS_PER_SECOND, MachineCpuMeter, ProcessSampler, cpuTicks, round, type MachineCpu } from './sampler.js';
import { ALIAS, CHAT_PATH, REQUEST_BODIES, stellwerkConfig } from './targets.js';

/** `pii` runs in process (bench/pii.ts): the PII guard's scan time per ~4,000-token prompt. */
export type ScenarioName = 'core' | 'chaos' | 'governance' | 'pii';
export const SCENARIOS: readonly ScenarioName[] = ['core', 'chaos', 'governance', 'pii'];

export interface ScenarioContext {
  readonly root: string;
  readonly tmp: string;
  readonly settings: Settings;
  readonly children: ChildProcesses;
  readonly stellwerkNodeArgs: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function upstreamScript(root: string): string {
  return transpileScript(join(root, 'bench/upstream.ts'), join(root, 'bench/.cache'));
}

async function startUpstream(ctx: ScenarioContext, name: string, args: readonly string[] = []): Promise<BenchChild> {
  const port = await freePort();
  const child = ctx.children.start({
    name,
    script: upstreamScript(ctx.root),
    args: ['--port', String(port), ...args],
    port,
    stdoutPath: null,
    stderrPath: join(ctx.tmp, `${name}.stderr`),
    cwd: ctx.root,
  });
  await waitUntilReady(child, child.baseUrl + '/', () => true);
  return child;
}

async function startStellwerk(ctx: ScenarioContext, name: string, config: (port: number) => string): Promise<BenchChild> {
  const port = await freePort();
  const configPath = join(ctx.tmp, `${name}.yaml`);
  writeFileSync(configPath, config(port));
  const child = ctx.children.start({
    name,
    nodeArgs: ctx.stellwerkNodeArgs,
    script: join(ctx.root, 'dist/cli/main.js'),
    args: ['start', '--config', configPath, '--port', String(port)],
    port,
    stdoutPath: join(ctx.tmp, `${name}.log`),
    stderrPath: join(ctx.tmp, `${name}.stderr`),
    cwd: ctx.root,
  });
  await waitUntilReady(child, child.baseUrl + '/healthz', (status) => status === 200, 60_000);
  return child;
}

function http(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return httpText(method, url, headers, body, 10_000);
}

/** CPU and memory of one or more processes (replicas) over a case. */
interface ProcessesUsage {
  /** Sum over the processes, in % of one core. */
  readonly cpu_percent: number | null;
  readonly cpu_us_per_request: number | null;
  /** Peak RSS of each process, MiB. */
  readonly rss_peak_mb: readonly (number | null)[];
}

/**
 * Warm-up, then `duration_s` of closed-loop load on `urls` at once (connections split evenly),
 * all into one result; CPU of `pids` summed.
 */
type Measured = { load: LoadResult; process: ProcessesUsage; machine: MachineCpu };

/**
 * One case's processes under load, measured in one or more slices (load, their CPU, the machine's),
 * so that the cases of a comparison can take turns (measureInTurns).
 */
class SlicedMeasurement {
  readonly #ctx: ScenarioContext;
  readonly #urls: readonly string[];
  readonly #body: string;
  readonly #headers: Record<string, string>;
  readonly #perUrl: readonly number[];
  readonly #load = new LoadAccumulator();
  readonly #samplers: ProcessSampler[];
  readonly #machine: MachineCpuMeter;
  readonly #pids: readonly number[];
  /** CPU ticks of all the processes from the first slice's start, and at `finish`. */
  #spanStart: number | null = null;
  #spanTicks: number | null = null;

  constructor(ctx: ScenarioContext, urls: readonly string[], pids: readonly number[], body: string, headers: Record<string, string>) {
    this.#ctx = ctx;
    this.#urls = urls;
    this.#body = body;
    this.#headers = headers;
    const { connections } = ctx.settings;
    this.#perUrl = urls.map((_, i) => Math.max(1, Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0)));
    this.#samplers = pids.map((pid) => new ProcessSampler(pid));
    this.#machine = new MachineCpuMeter(() => ctx.children.pids());
    this.#pids = pids;
  }

  async warmUp(): Promise<void> {
    if (this.#ctx.settings.warmup_s > 0) await this.#run(this.#ctx.settings.warmup_s, new LoadAccumulator());
    this.#ctx.children.assertAlive();
  }

  async measure(durationS: number): Promise<void> {
    this.#spanStart ??= this.#ticks();
    for (const sampler of this.#samplers) sampler.start();
    this.#machine.start();
    try {
      await this.#run(durationS, this.#load);
    } finally {
      this.#machine.pause();
      for (const sampler of this.#samplers) sampler.pause();
    }
    this.#ctx.children.assertAlive();
  }

  /**
   * Ends the span over which CPU per answer is counted (measureInTurns, after the last slice and a
   * pause): a process also works between its slices — its request-log writer runs on idle cores
   * and catches up while other cases are loaded — and that work belongs to its answers.
   */
  finish(): void {
    const end = this.#ticks();
    this.#spanTicks = end === null || this.#spanStart === null ? null : end - this.#spanStart;
  }

  result(): Measured {
    const load = this.#load.result();
    const usages = this.#samplers.map((sampler) => sampler.result());
    const cpu = usages.some((usage) => usage.cpu_percent === null) ? null : round(usages.reduce((sum, usage) => sum + usage.cpu_percent!, 0), 1);
    const perAnswer =
      this.#spanTicks !== null && load.responses > 0
        ? round((this.#spanTicks / CLOCK_TICKS_PER_SECOND / load.responses) * 1e6, 1)
        : cpu === null || load.requests_per_s === 0
          ? null
          : round((cpu / 100 / load.requests_per_s) * 1e6, 1);
    return {
      load,
      process: {
        cpu_percent: cpu,
        cpu_us_per_request: perAnswer,
        rss_peak_mb: usages.map((usage) => usage.rss_peak_mb),
      },
      machine: this.#machine.result(),
    };
  }

  #ticks(): number | null {
    let sum = 0;
    for (const pid of this.#pids) {
      const ticks = cpuTicks(pid);
      if (ticks === null) return null;
      sum += ticks;
    }
    return sum;
  }

  #run(durationS: number, into: LoadAccumulator): Promise<unknown> {
    return Promise.all(
      this.#urls.map((url, i) => runLoad({ url, body: this.#body, headers: this.#headers, connections: this.#perUrl[i]!, durationS, addDuration: i === 0 }, into)),
    );
  }
}

/** Slices of about this many seconds, as the core scenario's throughput cases. */
const TURN_SLICE_S = 2;
/** After the last slice: time for every case's deferred work (request-log writers) to finish. */
const TURN_DRAIN_MS = 3_000;

/**
 * Cases measured in turns (each warmed up first, then slices round-robin, starting one further on
 * each round), so that a slow or fast phase of the host falls on all of them alike.
 */
async function measureInTurns(ctx: ScenarioContext, cases: readonly SlicedMeasurement[]): Promise<Measured[]> {
  for (const measurement of cases) await measurement.warmUp();
  const rounds = Math.max(1, Math.round(ctx.settings.duration_s / TURN_SLICE_S));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < cases.length; i++) await cases[(i + round) % cases.length]!.measure(ctx.settings.duration_s / rounds);
  }
  await new Promise((resolve) => setTimeout(resolve, TURN_DRAIN_MS));
  for (const measurement of cases) measurement.finish();
  return cases.map((measurement) => measurement.result());
}

/** One case alone: warm-up, `before`, then the whole duration. */
async function measure(
  ctx: ScenarioContext,
  urls: readonly string[],
  pids: readonly number[],
  body: string,
  headers: Record<string, string>,
  before?: () => Promise<void>,
): Promise<Measured> {
  const measurement = new SlicedMeasurement(ctx, urls, pids, body, headers);
  await measurement.warmUp();
  if (before) await before();
  await measurement.measure(ctx.settings.duration_s);
  return measurement.result();
}

function progress(label: string, load: LoadResult, extra = ''): void {
  process.stderr.write(
    `  ${label.padEnd(40)} ${load.requests_per_s.toFixed(0).padStart(7)} req/s  p50 ${load.latency_ms.p50.toFixed(3)} ms  p99 ${load.latency_ms.p99.toFixed(3)} ms${extra}\n`,
  );
}

function connectionProblems(label: string, load: LoadResult): string[] {
  return load.errors > 0 || load.timeouts > 0 ? [`${label}: ${load.errors} connection errors, ${load.timeouts} timeouts`] : [];
}

// ---------------------------------------------------------------------------------------------
// Chaos: one healthy, one flaky, one slow upstream behind one alias per strategy

export const CHAOS_STRATEGIES = ['weighted', 'round-robin', 'least-busy', 'latency', 'priority'] as const;
export type ChaosStrategy = (typeof CHAOS_STRATEGIES)[number];
const CHAOS_UPSTREAMS = ['healthy', 'flaky', 'slow'] as const;
type ChaosUpstream = (typeof CHAOS_UPSTREAMS)[number];

export interface ChaosSettings {
  readonly delay_ms: number;
  readonly slow_delay_ms: number;
  readonly fail_rate: number;
  /** max_concurrency of the healthy deployment under `priority` (so that it spills). */
  readonly priority_max_concurrency: number;
  readonly retry: { readonly attempts: number; readonly initial_backoff_ms: number; readonly max_backoff_ms: number };
}

export interface ChaosCase {
  readonly strategy: ChaosStrategy;
  readonly load: LoadResult;
  /** 200 answers ÷ answers, in %. */
  readonly success_rate_percent: number;
  readonly process: ProcessesUsage;
  readonly machine: MachineCpu;
  /** Requests each upstream received during the measured seconds (retries included), its share of them, and its injected 500s. */
  readonly upstreams: Record<ChaosUpstream, { readonly requests: number; readonly share_percent: number; readonly failed: number }>;
  /** Upstream calls per client answer (1 = no retries). */
  readonly upstream_calls_per_answer: number | null;
  readonly pass: boolean;
}

export interface ChaosResult {
  readonly settings: ChaosSettings;
  readonly cases: readonly ChaosCase[];
  readonly problems: readonly string[];
}

export function chaosSettings(number: (name: string, fallback: number, min: number) => number): ChaosSettings {
  const delay = number('BENCH_CHAOS_DELAY_MS', 2, 0);
  const failRate = number('BENCH_CHAOS_FAIL_RATE', 0.3, 0);
  if (failRate > 1) throw new Error('BENCH_CHAOS_FAIL_RATE must be in [0, 1]');
  return {
    delay_ms: delay,
    slow_delay_ms: number('BENCH_CHAOS_SLOW_DELAY_MS', delay * 5, 0),
    fail_rate: failRate,
    priority_max_concurrency: Math.round(number('BENCH_CHAOS_PRIORITY_MAX_CONCURRENCY', 8, 1)),
    retry: { attempts: 3, initial_backoff_ms: 1, max_backoff_ms: 5 },
  };
}

function chaosConfig(port: number, chaos: ChaosSettings, upstreams: Record<ChaosUpstream, BenchChild>, sqlitePath: string): string {
  const aliases = CHAOS_STRATEGIES.map((strategy) => {
    const deployments = CHAOS_UPSTREAMS.map((upstream) => {
      const lines = [
        `      - provider: openai-compatible`,
        `        name: ${upstream}-${strategy}`,
        `        base_url: ${upstreams[upstream].baseUrl}/v1`,
        `        model: bench-upstream-model`,
      ];
      if (strategy === 'priority') {
        lines.push(`        priority: ${upstream === 'healthy' ? 0 : 1}`);
        if (upstream === 'healthy') lines.push(`        max_concurrency: ${chaos.priority_max_concurrency}`);
      }
      return lines.join('\n');
    });
    return `  - name: chaos-${strategy}\n    routing: { strategy: ${strategy} }\n    deployments:\n${deployments.join('\n')}`;
  });
  return `# Generated by bench/run.ts (chaos scenario)
server:
  host: 127.0.0.1
  port: ${port}
logging:
  level: info
governance:
  sqlite_path: ${JSON.stringify(sqlitePath)}
resilience:
  retry:
    attempts: ${chaos.retry.attempts}
    initial_backoff_ms: ${chaos.retry.initial_backoff_ms}
    max_backoff_ms: ${chaos.retry.max_backoff_ms}
models:
${aliases.join('\n')}
`;
}

async function upstreamCounts(upstreams: Record<ChaosUpstream, BenchChild>): Promise<Record<ChaosUpstream, { requests: number; failed: number }>> {
  const entries = await Promise.all(
    CHAOS_UPSTREAMS.map(async (name) => {
      const { status, body } = await http('GET', upstreams[name].baseUrl + '/count');
      if (status !== 200) throw new Error(`upstream ${name}: GET /count answered ${status}`);
      return [name, JSON.parse(body) as { requests: number; failed: number }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<ChaosUpstream, { requests: number; failed: number }>;
}

export async function runChaos(ctx: ScenarioContext, chaos: ChaosSettings): Promise<ChaosResult> {
  process.stderr.write(
    `Chaos: upstreams healthy (${chaos.delay_ms} ms), flaky (${chaos.delay_ms} ms, ${chaos.fail_rate * 100}% 500s), slow (${chaos.slow_delay_ms} ms)\n`,
  );
  const delay = (ms: number) => ['--delay-ms', String(ms)];
  const [healthy, flaky, slow] = await Promise.all([
    startUpstream(ctx, 'chaos-healthy', delay(chaos.delay_ms)),
    startUpstream(ctx, 'chaos-flaky', [...delay(chaos.delay_ms), '--fail-rate', String(chaos.fail_rate)]),
    startUpstream(ctx, 'chaos-slow', delay(chaos.slow_delay_ms)),
  ]);
  const upstreams = { healthy: healthy!, flaky: flaky!, slow: slow! };
  const stellwerk = await startStellwerk(ctx, 'stellwerk-chaos', (port) => chaosConfig(port, chaos, upstreams, join(ctx.tmp, 'chaos.db')));
  const cases: ChaosCase[] = [];
  const problems: string[] = [];
  try {
    for (const strategy of CHAOS_STRATEGIES) {
      const body = REQUEST_BODIES['non-stream'].replace(`"model":"${ALIAS}"`, `"model":"chaos-${strategy}"`);
      let before: Record<ChaosUpstream, { requests: number; failed: number }> | null = null;
      const measured = await measure(ctx, [stellwerk.baseUrl + CHAT_PATH], [stellwerk.pid], body, {}, async () => {
        before = await upstreamCounts(upstreams);
      });
      const after = await upstreamCounts(upstreams);
      const delta = Object.fromEntries(
        CHAOS_UPSTREAMS.map((name) => [name, { requests: after[name].requests - before![name].requests, failed: after[name].failed - before![name].failed }]),
      ) as Record<ChaosUpstream, { requests: number; failed: number }>;
      const total = CHAOS_UPSTREAMS.reduce((sum, name) => sum + delta[name].requests, 0);
      const { load } = measured;
      const ok = load.status_counts['200'] ?? 0;
      const successRate = load.responses === 0 ? 0 : round((ok / load.responses) * 100, 3);
      const chaosCase: ChaosCase = {
        strategy,
        load,
        success_rate_percent: successRate,
        process: measured.process,
        machine: measured.machine,
        upstreams: Object.fromEntries(
          CHAOS_UPSTREAMS.map((name) => [name, { ...delta[name], share_percent: total === 0 ? 0 : round((delta[name].requests / total) * 100, 1) }]),
        ) as ChaosCase['upstreams'],
        upstream_calls_per_answer: load.responses === 0 ? null : round(total / load.responses, 3),
        pass: load.responses > 0 && ok === load.responses && load.errors === 0 && load.timeouts === 0,
      };
      cases.push(chaosCase);
      problems.push(...connectionProblems(`chaos ${strategy}`, load));
      const shares = CHAOS_UPSTREAMS.map((name) => `${name} ${chaosCase.upstreams[name].share_percent}%`).join(', ');
      progress(`chaos ${strategy}`, load, `  ok ${successRate}%  (${shares})`);
    }
  } finally {
    await ctx.children.stop([stellwerk, healthy!, flaky!, slow!]);
  }
  return { settings: chaos, cases, problems };
}

// ---------------------------------------------------------------------------------------------
// Governance: a virtual key with limits and a priced deployment, on SQLite and on Redis + Postgres

export const GOVERNANCE_RATIO_TARGET = 0.85;
const REDIS_URL = 'redis://127.0.0.1:6379';
const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Limits far above what the benchmark can reach: checked and settled on every request, never refusing. */
// (Below 2^31: Postgres stores the limits as integer; larger values are accepted by the API but fail there.)
const KEY_LIMITS = { rpm: 1_000_000_000, tpm: 2_000_000_000, max_parallel: 100_000, budget: 1_000_000_000, budget_period: 'total' } as const;

export interface GovernanceCase {
  /** `baseline` and `baseline-replicas`: plain Stellwerk (the core config), the references. */
  readonly name: 'baseline' | 'baseline-replicas' | 'baseline-postgres' | 'sqlite' | 'postgres-redis';
  readonly replicas: number;
  readonly load: LoadResult;
  readonly process: ProcessesUsage;
  readonly machine: MachineCpu;
  /**
   * req/s ÷ the reference's: plain Stellwerk run the same way, with as many replicas and the same
   * store (the core case of the run, or `baseline`, for sqlite; `baseline-postgres` for
   * postgres-redis). Null for a reference.
   */
  readonly throughput_ratio: number | null;
  /** The reference's CPU µs per answer ÷ this case's (all replicas together). Null for a reference. */
  readonly cpu_cost_ratio: number | null;
  /** For several replicas: the single-replica reference's CPU µs per answer ÷ this case's. */
  readonly cpu_cost_ratio_vs_one_replica: number | null;
  /** For several replicas: `baseline-replicas`' (two plain replicas, each on its own SQLite file) CPU µs per answer ÷ this case's. */
  readonly cpu_cost_ratio_vs_sqlite_replicas: number | null;
}

export interface GovernanceResult {
  readonly reference_requests_per_s: number;
  readonly reference_cpu_us_per_request: number | null;
  /** Two plain replicas (core config, each its own SQLite file), the load split as for postgres-redis. */
  readonly replicas_reference_requests_per_s: number | null;
  readonly replicas_reference_cpu_us_per_request: number | null;
  /** Two plain replicas sharing a Postgres database (no key, no limits): postgres-redis's reference. */
  readonly postgres_reference_requests_per_s: number | null;
  readonly postgres_reference_cpu_us_per_request: number | null;
  readonly target: number;
  readonly cases: readonly GovernanceCase[];
  readonly problems: readonly string[];
}

export interface GovernanceStore {
  readonly sqlitePath?: string;
  readonly databaseUrl?: string;
  readonly redisPrefix?: string;
  readonly pepper?: string;
}

export function governanceConfig(port: number, upstreamBaseUrl: string, masterKey: string, store: GovernanceStore): string {
  const lines = [];
  if (store.sqlitePath !== undefined) lines.push(`  sqlite_path: ${JSON.stringify(store.sqlitePath)}`);
  if (store.databaseUrl !== undefined) lines.push(`  database_url: ${JSON.stringify(store.databaseUrl)}`);
  if (store.redisPrefix !== undefined) lines.push(`  redis_url: ${JSON.stringify(REDIS_URL)}`, `  redis_prefix: ${JSON.stringify(store.redisPrefix)}`);
  if (store.pepper !== undefined) lines.push(`  key_pepper: ${JSON.stringify(store.pepper)}`);
  return `# Generated by bench/run.ts (governance scenario)
server:
  host: 127.0.0.1
  port: ${port}
logging:
  level: info
auth:
  master_key: ${JSON.stringify(masterKey)}
governance:
${lines.join('\n')}
models:
  - name: ${ALIAS}
    deployments:
      - provider: openai-compatible
        name: bench-upstream
        base_url: ${upstreamBaseUrl}/v1
        model: bench-upstream-model
        price: { input_per_1m: 0.15, output_per_1m: 0.6 }
`;
}

/** Creates the virtual key through the admin API and waits until every replica (base URL) accepts it. */
export async function createKey(replicas: readonly { readonly name: string; readonly baseUrl: string }[], masterKey: string): Promise<string> {
  const { status, body } = await http(
    'POST',
    replicas[0]!.baseUrl + '/admin/keys',
    { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    JSON.stringify({ name: 'bench', ...KEY_LIMITS }),
  );
  if (status !== 201) throw new Error(`POST /admin/keys answered ${status}: ${body.slice(0, 500)}`);
  const key = (JSON.parse(body) as { key?: string }).key;
  if (typeof key !== 'string') throw new Error(`POST /admin/keys answered without a key: ${body.slice(0, 500)}`);
  const started = performance.now();
  for (const replica of replicas) {
    for (;;) {
      const answer = await http('GET', replica.baseUrl + '/v1/models', { authorization: `Bearer ${key}` });
      if (answer.status === 200) break;
      if (performance.now() - started > 60_000) throw new Error(`${replica.name} still answers ${answer.status} to the new key after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return key;
}

async function checkChat(url: string, key: string | null): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const { status, body } = await http('POST', url, headers, REQUEST_BODIES['non-stream']);
  if (status !== 200) throw new Error(`${url} answered ${status}: ${body.slice(0, 500)}`);
}

export async function runGovernance(ctx: ScenarioContext): Promise<GovernanceResult> {
  const { children, tmp } = ctx;
  const body = REQUEST_BODIES['non-stream'];
  const upstream = await startUpstream(ctx, 'governance-upstream');
  const cases: GovernanceCase[] = [];
  const problems: string[] = [];
  const masterKey = `sk-bench-master-${randomBytes(12).toString('hex')}`;
  const suffix = randomBytes(6).toString('hex');
  const redisPrefix = `stellwerk-bench-${suffix}:`;
  const pepper = randomBytes(24).toString('hex');
  const databases: string[] = [];
  /** A fresh database, dropped at the end (also when the scenario fails). */
  const freshDatabase = async (name: string): Promise<string> => {
    const database = `stellwerk_bench_${suffix}_${name}`;
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      databases.push(database);
    } finally {
      await admin.end();
    }
    return POSTGRES_ADMIN_URL.replace(/\/test$/, `/${database}`);
  };
  type Reference = { rps: number; cpu: number | null };
  const references = new Map<GovernanceCase['name'], Reference>();
  const cpuRatio = (ref: Reference | undefined, cpu: number | null) => (ref === undefined || ref.cpu === null || cpu === null || cpu === 0 ? null : round(ref.cpu / cpu, 3));
  /** The cases of a group in the order given: references first, each case against its own. */
  const add = (name: GovernanceCase['name'], replicas: number, measured: Measured, referenceName: GovernanceCase['name'] | null) => {
    const cpu = measured.process.cpu_us_per_request;
    const ref = referenceName === null ? undefined : references.get(referenceName);
    if (referenceName === null) references.set(name, { rps: measured.load.requests_per_s, cpu });
    const result: GovernanceCase = {
      name,
      replicas,
      ...measured,
      throughput_ratio: ref === undefined || ref.rps === 0 ? null : round(measured.load.requests_per_s / ref.rps, 3),
      cpu_cost_ratio: cpuRatio(ref, cpu),
      cpu_cost_ratio_vs_one_replica: referenceName === null || replicas === 1 ? null : cpuRatio(references.get('baseline'), cpu),
      cpu_cost_ratio_vs_sqlite_replicas: referenceName === null || replicas === 1 ? null : cpuRatio(references.get('baseline-replicas'), cpu),
    };
    cases.push(result);
    problems.push(...connectionProblems(`governance ${name}`, measured.load));
    if (measured.load.non_200 > 0) problems.push(`governance ${name}: ${measured.load.non_200} non-200 (${JSON.stringify(measured.load.status_counts)})`);
    progress(`governance ${name} (${replicas} replica${replicas > 1 ? 's' : ''})`, measured.load, `  CPU ${cpu ?? '?'} µs/req`);
  };
  const urlsOf = (replicas: readonly BenchChild[]) => replicas.map((replica) => replica.baseUrl + CHAT_PATH);
  const pidsOf = (replicas: readonly BenchChild[]) => replicas.map((replica) => replica.pid);
  try {
    // (a) One replica: plain Stellwerk (the core config) and Stellwerk with governance on the
    // embedded SQLite store, both running, measured in turns.
    const single: BenchChild[] = [];
    try {
      const plain = await startStellwerk(ctx, 'stellwerk-baseline', (port) => stellwerkConfig(port, upstream.baseUrl, join(tmp, 'baseline.db')));
      single.push(plain);
      const sqlite = await startStellwerk(ctx, 'stellwerk-gov-sqlite', (port) =>
        governanceConfig(port, upstream.baseUrl, masterKey, { sqlitePath: join(tmp, 'governance.db') }),
      );
      single.push(sqlite);
      await checkChat(plain.baseUrl + CHAT_PATH, null);
      const key = await createKey([sqlite], masterKey);
      await checkChat(sqlite.baseUrl + CHAT_PATH, key);
      const [baseline, governed] = await measureInTurns(ctx, [
        new SlicedMeasurement(ctx, urlsOf([plain]), pidsOf([plain]), body, {}),
        new SlicedMeasurement(ctx, urlsOf([sqlite]), pidsOf([sqlite]), body, { authorization: `Bearer ${key}` }),
      ]);
      add('baseline', 1, baseline!, null);
      add('sqlite', 1, governed!, 'baseline');
    } finally {
      await children.stop(single);
    }

    // (b) Two replicas, the load split over both, three ways, all running and measured in turns:
    // each on its own SQLite file; sharing a Postgres database; sharing Postgres and Redis with the
    // key, limits and budget. The second is the third's reference: Postgres itself (its server
    // shares the cores, the request log goes through \`pg\`) costs more per answer than a SQLite file
    // per replica, and that is the store's price, not governance's.
    const sqliteReplicas: BenchChild[] = [];
    const postgresReplicas: BenchChild[] = [];
    const governedReplicas: BenchChild[] = [];
    try {
      for (const n of [1, 2]) {
        sqliteReplicas.push(await startStellwerk(ctx, `stellwerk-replica-${n}`, (port) => stellwerkConfig(port, upstream.baseUrl, join(tmp, `replica-${n}.db`))));
      }
      const plainDatabase = await freshDatabase('plain');
      const store: GovernanceStore = { databaseUrl: await freshDatabase('governance'), redisPrefix, pepper };
      // One after the other: the first of each pair applies the migrations to its fresh database.
      for (const n of [1, 2]) {
        postgresReplicas.push(
          await startStellwerk(ctx, `stellwerk-pg-replica-${n}`, (port) =>
            stellwerkConfig(port, upstream.baseUrl, join(tmp, `pg-replica-${n}.db`), { databaseUrl: plainDatabase, pepper }),
          ),
        );
      }
      for (const n of [1, 2]) governedReplicas.push(await startStellwerk(ctx, `stellwerk-gov-pg-${n}`, (port) => governanceConfig(port, upstream.baseUrl, masterKey, store)));
      for (const replica of [...sqliteReplicas, ...postgresReplicas]) await checkChat(replica.baseUrl + CHAT_PATH, null);
      const key = await createKey(governedReplicas, masterKey);
      for (const replica of governedReplicas) await checkChat(replica.baseUrl + CHAT_PATH, key);
      const [onSqlite, onPostgres, governed] = await measureInTurns(ctx, [
        new SlicedMeasurement(ctx, urlsOf(sqliteReplicas), pidsOf(sqliteReplicas), body, {}),
        new SlicedMeasurement(ctx, urlsOf(postgresReplicas), pidsOf(postgresReplicas), body, {}),
        new SlicedMeasurement(ctx, urlsOf(governedReplicas), pidsOf(governedReplicas), body, { authorization: `Bearer ${key}` }),
      ]);
      add('baseline-replicas', 2, onSqlite!, null);
      add('baseline-postgres', 2, onPostgres!, null);
      add('postgres-redis', 2, governed!, 'baseline-postgres');
    } finally {
      await children.stop([...sqliteReplicas, ...postgresReplicas, ...governedReplicas]);
    }
  } finally {
    await children.stop([upstream]);
    for (const database of databases) await dropDatabase(database).catch((error: unknown) => problems.push(`could not drop database ${database}: ${String(error)}`));
    await clearRedis(redisPrefix).catch((error: unknown) => problems.push(`could not clear Redis keys ${redisPrefix}*: ${String(error)}`));
  }
  const reference = references.get('baseline');
  const replicasReference = references.get('baseline-replicas');
  const postgresReference = references.get('baseline-postgres');
  return {
    reference_requests_per_s: reference?.rps ?? 0,
    reference_cpu_us_per_request: reference?.cpu ?? null,
    replicas_reference_requests_per_s: replicasReference?.rps ?? null,
    replicas_reference_cpu_us_per_request: replicasReference?.cpu ?? null,
    postgres_reference_requests_per_s: postgresReference?.rps ?? null,
    postgres_reference_cpu_us_per_request: postgresReference?.cpu ?? null,
    target: GOVERNANCE_RATIO_TARGET,
    cases,
    problems,
  };
}

async function dropDatabase(database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Deletes the run's Redis keys (only those under its own unique prefix). */
async function clearRedis(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

export function formatChaos(result: ChaosResult, settings: Settings): string {
  const c = result.settings;
  const lines = [
    `Chaos: ${settings.connections} connections, non-stream, ${settings.duration_s} s per strategy; upstreams healthy (${c.delay_ms} ms), ` +
      `flaky (${c.delay_ms} ms, ${round(c.fail_rate * 100, 1)}% 500s), slow (${c.slow_delay_ms} ms); retry ${c.retry.attempts} attempts, backoff ${c.retry.initial_backoff_ms}-${c.retry.max_backoff_ms} ms`,
  ];
  const header = ['strategy', 'req/s', 'ok %', 'p50 ms', 'p99 ms', 'healthy %', 'flaky %', 'slow %', 'flaky 500s', 'calls/answer', 'CPU µs/req', 'result'];
  const rows = result.cases.map((k) => [
    k.strategy + (k.strategy === 'priority' ? ` (max ${c.priority_max_concurrency})` : ''),
    k.load.requests_per_s.toFixed(0),
    k.success_rate_percent.toFixed(2),
    k.load.latency_ms.p50.toFixed(3),
    k.load.latency_ms.p99.toFixed(3),
    k.upstreams.healthy.share_percent.toFixed(1),
    k.upstreams.flaky.share_percent.toFixed(1),
    k.upstreams.slow.share_percent.toFixed(1),
    String(k.upstreams.flaky.failed),
    k.upstream_calls_per_answer === null ? '?' : k.upstream_calls_per_answer.toFixed(3),
    k.process.cpu_us_per_request === null ? '?' : k.process.cpu_us_per_request.toFixed(0),
    k.pass ? 'PASS' : 'FAIL',
  ]);
  lines.push(...table(header, rows));
  lines.push('ok %: 200 answers of all answers (target 100: retries hide the flaky upstream). healthy/flaky/slow %: share of the upstream calls');
  lines.push('each upstream received, retries included; calls/answer: upstream calls per client answer.');
  for (const problem of result.problems) lines.push(`  PROBLEM ${problem}`);
  return lines.join('\n');
}

export function formatGovernance(result: GovernanceResult, settings: Settings): string {
  const lines = [
    `Governance: virtual key with rpm/tpm/max_parallel/budget limits, priced deployment, ${settings.connections} connections (split over the replicas), ` +
      `non-stream, ${settings.duration_s} s per case, the cases of a group in turns (${TURN_SLICE_S} s slices); reference: plain Stellwerk with the same store ` +
      `(baseline: ${result.reference_requests_per_s.toFixed(0)} req/s, ${result.reference_cpu_us_per_request ?? '?'} CPU µs/req) for one replica, ` +
      `two plain replicas sharing Postgres (baseline-postgres) for two`,
  ];
  const header = ['store', 'replicas', 'req/s', 'p50 ms', 'p99 ms', 'CPU %', 'CPU µs/req', 'req/s ratio', 'CPU ratio', 'vs 1 replica', 'vs SQLite replicas', 'result'];
  const rows = result.cases.map((k) => [
    k.name,
    String(k.replicas),
    k.load.requests_per_s.toFixed(0),
    k.load.latency_ms.p50.toFixed(3),
    k.load.latency_ms.p99.toFixed(3),
    k.process.cpu_percent === null ? '?' : k.process.cpu_percent.toFixed(0),
    k.process.cpu_us_per_request === null ? '?' : k.process.cpu_us_per_request.toFixed(0),
    k.throughput_ratio === null ? '-' : k.throughput_ratio.toFixed(3),
    k.cpu_cost_ratio === null ? '-' : k.cpu_cost_ratio.toFixed(3),
    k.cpu_cost_ratio_vs_one_replica === null ? '-' : k.cpu_cost_ratio_vs_one_replica.toFixed(3),
    k.cpu_cost_ratio_vs_sqlite_replicas === null ? '-' : k.cpu_cost_ratio_vs_sqlite_replicas.toFixed(3),
    k.cpu_cost_ratio === null ? '-' : k.cpu_cost_ratio >= result.target ? 'PASS' : 'FAIL',
  ]);
  lines.push(...table(header, rows));
  lines.push(
    `req/s ratio: this case's req/s ÷ the reference's; CPU ratio: the reference's CPU µs per answer ÷ this case's (all replicas together). Target >= ${result.target}`,
  );
  lines.push(
    'The reference is plain Stellwerk with as many replicas and the same store, loaded the same way; "vs 1 replica" and "vs SQLite replicas": against the single plain replica, and two plain replicas each on its own SQLite file, instead.',
  );
  lines.push('(judged on the CPU ratio: two replicas on a small machine share the cores with the load generator, so their req/s says little).');
  for (const problem of result.problems) lines.push(`  PROBLEM ${problem}`);
  return lines.join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
