/**
 * Instructions per answer, counted by valgrind's callgrind: the CPU work of the bare hop and of
 * Stellwerk (every thread: event loop, request-log writer, V8's helpers) under the same requests.
 * Unlike CPU time on this host, whose slow and fast phases move the throughput cases by ±10%,
 * the count repeats within about 2% (JIT and GC timing remain), so two builds can be compared
 * a change at a time. It counts user-space instructions only: the kernel's share (sockets, WAL
 * writes) and stalls are not in it. V8's optimizing compiler is reported apart (it runs in the
 * background and still works during the counted requests under valgrind's slow clock).
 *
 * Usage: node --import tsx bench/instructions.ts [--mode non-stream|stream] [--warmup 4000]
 *          [--requests 3000] [--target bare] [--target stellwerk] [--target NAME=DIST_DIR] …
 *          [--governance]  (Stellwerk as in the governance scenario's sqlite case: a virtual key on every request)
 *          [--keep]  (keep the callgrind dumps and print where, for callgrind_annotate)
 * (default: the bare hop and ./dist; `npm run build` first). Needs valgrind (Debian package
 * `valgrind`); each target takes about a minute.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { ChildProcesses, freePort, probe, transpileScript } from './lib/children.js';
import { createKey, governanceConfig } from './lib/scenarios.js';
import { CHAT_PATH, parseTargetSpec, REQUEST_BODIES, startFlags, startUpstream, stellwerkConfig, type Mode } from './lib/targets.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'non-stream' },
    warmup: { type: 'string', default: '4000' },
    requests: { type: 'string', default: '3000' },
    target: { type: 'string', multiple: true },
    pause: { type: 'string', default: '10' },
    governance: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
// --governance: Stellwerk as in the governance benchmark's sqlite case (a master key, a priced
// deployment, every request with a virtual key whose limits are reserved and settled but never refuse).
const governance = values.governance;
const masterKey = `sk-bench-master-${randomBytes(12).toString('hex')}`;
const mode = values.mode as Mode;
if (!(mode in REQUEST_BODIES)) throw new Error(`--mode must be non-stream or stream, not ${values.mode}`);
const warmup = Number(values.warmup);
const requests = Number(values.requests);
const root = resolve(import.meta.dirname, '..');
const targets = (values.target ?? ['bare', 'stellwerk']).map((spec) => {
  const { name, dist } = parseTargetSpec(spec, root);
  return { name, dir: dist };
});
if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (apt-get install valgrind)');

const children = new ChildProcesses();
process.on('exit', () => children.killAllNow());
const tmp = mkdtempSync(join(tmpdir(), 'stellwerk-instructions-'));
const cache = join(root, 'bench/.cache');
const upstream = await startUpstream(children, root, tmp);
await until(async () => (await probe(upstream.baseUrl + '/')) !== null, 20_000, 'the upstream');

interface Count {
  readonly name: string;
  readonly total: number;
  readonly compiler: number;
}

const counts: Count[] = [];
for (const target of targets) counts.push(await count(target.name, target.dir));
await children.stopAll();
if (!values.keep) rmSync(tmp, { recursive: true, force: true });

const bare = counts.find((entry) => entry.name === 'bare');
console.log(`\nInstructions per answer, ${mode}, ${requests} requests after ${warmup} (8 at a time); compiler: V8's optimizing compiler, not in "work"`);
console.log('target        total   compiler       work   work ÷ bare hop');
for (const entry of counts) {
  const work = entry.total - entry.compiler;
  const ratio = bare === undefined ? '' : ((bare.total - bare.compiler) / work).toFixed(3);
  console.log(`${entry.name.padEnd(10)} ${fmt(entry.total)} ${fmt(entry.compiler)} ${fmt(work)}   ${ratio}`);
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US').padStart(10);
}

async function count(name: string, dist: string | null): Promise<Count> {
  const port = await freePort();
  const out = join(tmp, `${name}.callgrind`);
  let script: string;
  let args: string[];
  let ready: string;
  // Stellwerk with the flags `npm start` gives it.
  let nodeFlags: string[] = [];
  if (dist === null) {
    script = transpileScript(join(root, 'bench/bare-hop.ts'), cache);
    args = ['--port', String(port), '--upstream', upstream.baseUrl];
    ready = `http://127.0.0.1:${port}/`;
  } else {
    const main = join(dist, 'cli/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
    const config = join(tmp, `${name}.yaml`);
    const db = join(tmp, `${name}.db`);
    writeFileSync(config, governance ? governanceConfig(port, upstream.baseUrl, masterKey, { sqlitePath: db }) : stellwerkConfig(port, upstream.baseUrl, db));
    script = main;
    nodeFlags = startFlags(root);
    args = ['start', '--config', config, '--port', String(port)];
    ready = `http://127.0.0.1:${port}/healthz`;
  }
  const child: ChildProcess = spawn(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, ...nodeFlags, script, ...args],
    { cwd: root, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  try {
    // Stellwerk answers /healthz with 200 once started; the bare hop answers anything at all.
    await until(async () => {
      const status = await probe(ready, 2_000);
      return dist === null ? status !== null : status === 200;
    }, 180_000, name);
    const url = `http://127.0.0.1:${port}${CHAT_PATH}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (governance && dist !== null) headers.authorization = `Bearer ${await createKey([{ name, baseUrl: `http://127.0.0.1:${port}` }], masterKey)}`;
    await load(url, warmup, headers);
    await sleep(Number(values.pause) * 1000);
    control(child.pid!, '-i', 'on');
    await load(url, requests, headers);
    control(child.pid!, '-d');
    await until(async () => existsSync(`${out}.1`) && readFileSync(`${out}.1`, 'utf8').includes('\nsummary:'), 120_000, `${name}'s dump`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)));
  }
  const dump = `${out}.1`;
  const summary = /^summary:\s+(\d+)/m.exec(readFileSync(dump, 'utf8'));
  if (summary === null) throw new Error(`no summary in ${dump}`);
  const annotated = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
  const compilerLine = annotated.split('\n').find((line) => line.includes('OptimizingCompileDispatcher::CompileTask::RunInternal'));
  const compiler = compilerLine === undefined ? 0 : Number(compilerLine.trim().split(/\s+/)[0]!.replaceAll(',', ''));
  if (values.keep) {
    console.log(`${name}: done, dump kept: ${dump}`);
  } else {
    for (const file of readdirSync(tmp)) if (file.startsWith(`${name}.callgrind`)) rmSync(join(tmp, file));
    console.log(`${name}: done`);
  }
  return { name, total: Number(summary[1]) / requests, compiler: compiler / requests };
}

function control(pid: number, ...args: string[]): void {
  const result = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${result.stderr}`);
}

/** `total` requests, 8 at a time, each read to its end; any answer but 200 fails the count. */
async function load(url: string, total: number, headers: Record<string, string>): Promise<void> {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: 8 });
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const response = await pool.request({ method: 'POST', path: pathname, headers, body: REQUEST_BODIES[mode] });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await pool.close();
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not ready after ${timeoutMs} ms`);
    await sleep(200);
  }
}
