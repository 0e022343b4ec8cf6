/**
 * Two or more builds of Stellwerk (and the bare hop) side by side, under the same closed-loop
 * load: they take turns in short slices (the order reversed every round, as in the throughput
 * cases of run.ts), so that a slow or fast phase of the host falls on all of them alike. For
 * each it prints answers per second and the CPU time per answer of every thread of the process
 * (the event loop first, then the others by their CPU), of the upstream and of the load
 * generator (this process), from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds), and the share
 * of the machine left idle. For weighing one change, or what one feature costs: copy `dist` to
 * a folder inside the project (packages must resolve), change or take out the part there, and
 * compare it with `dist`.
 *
 * Usage: node --import tsx bench/ab.ts [--target bare] [--target stellwerk] [--target NAME=DIST_DIR]
 *          [--flags NAME='--node --flags'] [--config NAME=FILE] [--mode non-stream|stream]
 *          [--rounds 6] [--slice 2] [--connections 32]
 * (default: the bare hop and ./dist; `npm run build` first). `--config` gives a target YAML
 * prepended to the generated config (e.g. `audit: { enabled: false }`). Run a build against a
 * copy of itself first: the spread between identical builds is what a difference must exceed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChildProcesses, freePort, waitUntilReady, type BenchChild } from './lib/children.js';
import { requestLogDrained } from './lib/http.js';
import { runLoad } from './lib/load.js';
import { machineTicks } from './lib/sampler.js';
import { CHAT_PATH, parseTargetSpec, REQUEST_BODIES, startBareHop, startFlags, startUpstream, stellwerkConfig, type Mode } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    flags: { type: 'string', multiple: true },
    config: { type: 'string', multiple: true },
    mode: { type: 'string', default: 'non-stream' },
    rounds: { type: 'string', default: '6' },
    slice: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
  },
});
const mode = values.mode as Mode;
if (!(mode in REQUEST_BODIES)) throw new Error(`--mode must be non-stream or stream, not ${values.mode}`);
const rounds = Number(values.rounds);
const sliceS = Number(values.slice);
const connections = Number(values.connections);
const root = resolve(import.meta.dirname, '..');
/** `--flags`/`--config` values: `NAME=VALUE`, by target name. */
const byName = (option: string, list: readonly string[] | undefined) =>
  new Map(
    (list ?? []).map((spec) => {
      const at = spec.indexOf('=');
      if (at < 0) throw new Error(`--${option} takes NAME=VALUE (a target's name), not ${spec}`);
      return [spec.slice(0, at), spec.slice(at + 1)] as const;
    }),
  );
const flagsOf = byName('flags', values.flags);
const configOf = byName('config', values.config);
const specs = (values.target ?? ['bare', 'stellwerk']).map((spec) => {
  const { name, dist } = parseTargetSpec(spec, root);
  return { name, dist, flags: (flagsOf.get(name) ?? '').split(' ').filter(Boolean), config: configOf.get(name) ?? null };
});

const children = new ChildProcesses();
process.on('exit', () => children.killAllNow());
process.on('SIGINT', () => process.exit(130));
const tmp = mkdtempSync(join(tmpdir(), 'stellwerk-ab-'));
const upstream = await startUpstream(children, root, tmp);
await waitUntilReady(upstream, upstream.baseUrl + '/', () => true);

interface Target {
  readonly name: string;
  readonly child: BenchChild;
  /** Stellwerk (has a request log to wait for after its slices), not the bare hop. */
  readonly stellwerk: boolean;
}
const targets: Target[] = [];
for (const spec of specs) {
  if (spec.dist === null) {
    const child = await startBareHop(children, root, tmp, upstream.baseUrl, { name: spec.name, nodeArgs: spec.flags });
    await waitUntilReady(child, child.baseUrl + '/', () => true);
    targets.push({ name: spec.name, child, stellwerk: false });
    continue;
  }
  const port = await freePort();
  const configPath = join(tmp, `${spec.name}.yaml`);
  const generated = stellwerkConfig(port, upstream.baseUrl, join(tmp, `${spec.name}.db`));
  writeFileSync(configPath, spec.config === null ? generated : `${readFileSync(spec.config, 'utf8')}\n${generated}`);
  const child = children.start({
    name: spec.name,
    nodeArgs: [...startFlags(root), ...spec.flags],
    script: join(spec.dist, 'cli/main.js'),
    args: ['start', '--config', configPath, '--port', String(port)],
    port,
    stdoutPath: join(tmp, `${spec.name}.log`),
    stderrPath: join(tmp, `${spec.name}.stderr`),
    cwd: root,
  });
  await waitUntilReady(child, child.baseUrl + '/healthz', (status) => status === 200);
  targets.push({ name: spec.name, child, stellwerk: true });
}

/** CPU nanoseconds per thread of `pid` (the main thread under "loop"). */
function threadNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out.set(tid === String(pid) ? 'loop' : tid, ns);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

function machineIdleTicks(): number {
  const ticks = machineTicks();
  if (ticks === null) throw new Error('/proc/stat cannot be read: bench:ab needs Linux');
  return ticks.idle + ticks.iowait;
}

interface Tally {
  answers: number;
  seconds: number;
  threads: Map<string, number>;
  upstreamNs: number;
  loadNs: number;
  idleTicks: number;
}
const tallies = new Map<string, Tally>(targets.map((t) => [t.name, { answers: 0, seconds: 0, threads: new Map(), upstreamNs: 0, loadNs: 0, idleTicks: 0 }]));
const body = REQUEST_BODIES[mode];
const selfNs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1_000;
};

/** After a Stellwerk's slice, its request log writes what is left before the next target's slice starts. */
const settle = async (target: Target) => {
  if (target.stellwerk) await requestLogDrained(target.child.baseUrl);
};
for (const target of targets) {
  await runLoad({ url: target.child.baseUrl + CHAT_PATH, body, connections, durationS: 2 });
  await settle(target);
}
for (let round = 0; round < rounds; round++) {
  for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
    const before = threadNs(target.child.pid);
    const upstreamBefore = threadNs(upstream.pid).get('loop') ?? 0;
    const loadBefore = selfNs();
    const idleBefore = machineIdleTicks();
    const started = performance.now();
    const load = await runLoad({ url: target.child.baseUrl + CHAT_PATH, body, connections, durationS: sliceS });
    const seconds = (performance.now() - started) / 1000;
    const tally = tallies.get(target.name)!;
    tally.idleTicks += machineIdleTicks() - idleBefore;
    tally.loadNs += selfNs() - loadBefore;
    tally.upstreamNs += (threadNs(upstream.pid).get('loop') ?? 0) - upstreamBefore;
    const result = load.result();
    if (result.non_200 > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non_200} non-200 answers, ${result.errors} errors`);
    tally.answers += result.responses;
    tally.seconds += seconds;
    // The target's own threads are read after its request log has caught up: the rows it writes
    // then belong to this slice's answers.
    await settle(target);
    for (const [tid, ns] of threadNs(target.child.pid)) tally.threads.set(tid, (tally.threads.get(tid) ?? 0) + ns - (before.get(tid) ?? 0));
  }
}

const cores = cpus().length;
const first = targets[0]!.name;
const rate = (name: string) => tallies.get(name)!.answers / tallies.get(name)!.seconds;
console.log(`${mode}, ${connections} connections, ${rounds} rounds of ${sliceS} s per target; CPU in µs per answer`);
for (const target of targets) {
  const tally = tallies.get(target.name)!;
  const per = (ns: number) => (ns / tally.answers / 1_000).toFixed(1);
  const others = [...tally.threads].filter(([tid]) => tid !== 'loop').map(([, ns]) => ns).sort((a, b) => b - a);
  const total = [...tally.threads.values()].reduce((sum, ns) => sum + ns, 0);
  const idle = (tally.idleTicks / 100 / tally.seconds / cores) * 100;
  console.log(
    `${target.name.padEnd(12)} ${rate(target.name).toFixed(0).padStart(7)} req/s (${(rate(target.name) / rate(first)).toFixed(3)})` +
      `  process ${per(total).padStart(6)}  loop ${per(tally.threads.get('loop') ?? 0).padStart(6)}` +
      `  threads ${others.filter((ns) => ns / tally.answers >= 200).map(per).join(' ') || '-'}` +
      `  | upstream ${per(tally.upstreamNs)}  load generator ${per(tally.loadNs)}  machine idle ${idle.toFixed(1)} %`,
  );
}
await children.stopAll();
rmSync(tmp, { recursive: true, force: true });
