import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import ts from 'typescript';

/** One process the benchmark started and must stop. */
export interface BenchChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly baseUrl: string;
  readonly stderrPath: string;
}

export interface StartChildOptions {
  readonly name: string;
  readonly nodeArgs?: readonly string[];
  readonly script: string;
  readonly args: readonly string[];
  readonly port: number;
  /** Where the child's stdout goes (a file path); null discards it. */
  readonly stdoutPath: string | null;
  readonly stderrPath: string;
  readonly cwd: string;
}

/**
 * The benchmark's child processes: started here, stopped here, also when the run fails or is
 * interrupted. Only processes it started itself are ever signalled, by pid.
 */
export class ChildProcesses {
  private readonly children: BenchChild[] = [];

  start(options: StartChildOptions): BenchChild {
    const stdout = options.stdoutPath === null ? 'ignore' : openSync(options.stdoutPath, 'w');
    const stderr = openSync(options.stderrPath, 'w');
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...options.args], {
      cwd: options.cwd,
      stdio: ['ignore', stdout, stderr],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (typeof stdout === 'number') closeSync(stdout);
    closeSync(stderr);
    if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
    const started: BenchChild = {
      name: options.name,
      process: child,
      pid: child.pid,
      port: options.port,
      baseUrl: `http://127.0.0.1:${options.port}`,
      stderrPath: options.stderrPath,
    };
    this.children.push(started);
    return started;
  }

  pids(): number[] {
    return this.children.map((child) => child.pid);
  }

  /** Throws when a child has died: the numbers of a run with a dead target mean nothing. */
  assertAlive(): void {
    for (const child of this.children) {
      if (child.process.exitCode !== null || child.process.signalCode !== null) {
        throw new Error(`${child.name} exited (code ${child.process.exitCode}, signal ${child.process.signalCode})${stderrTail(child)}`);
      }
    }
  }

  /** SIGTERM to each, SIGKILL to whoever is still there after `graceMs`. */
  async stopAll(graceMs = 5_000): Promise<void> {
    await this.stop(this.children.slice(), graceMs);
  }

  /** Stops these children only (a scenario's own processes), as stopAll does. */
  async stop(which: readonly BenchChild[], graceMs = 5_000): Promise<void> {
    for (const child of which) {
      const index = this.children.indexOf(child);
      if (index >= 0) this.children.splice(index, 1);
    }
    const running = which.filter((child) => isRunning(child.process));
    await Promise.all(
      running.map(async (child) => {
        const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
        child.process.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
        const timedOut = await Promise.race([exited.then(() => false), late]);
        clearTimeout(timer);
        if (timedOut && isRunning(child.process)) {
          child.process.kill('SIGKILL');
          await exited;
        }
      }),
    );
  }

  /** Last resort on the way out (synchronous, for process 'exit'). */
  killAllNow(): void {
    for (const child of this.children.splice(0)) if (isRunning(child.process)) child.process.kill('SIGKILL');
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function stderrTail(child: BenchChild): string {
  if (!existsSync(child.stderrPath)) return '';
  const text = readFileSync(child.stderrPath, 'utf8').trim();
  return text.length === 0 ? '' : `\n--- ${child.name} stderr (last 2000 chars) ---\n${text.slice(-2000)}`;
}

/** A port that was free a moment ago (the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Status of one GET, or null when nothing answered. A fresh connection each time. */
export function probe(url: string, timeoutMs = 1_000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Polls `url` until `ready(status)` holds: no fixed sleeps, only short pauses between tries.
 * Fails at once if the child dies, or after `timeoutMs`.
 */
export async function waitUntilReady(
  child: BenchChild,
  url: string,
  ready: (status: number) => boolean,
  timeoutMs = 20_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (!isRunning(child.process)) throw new Error(`${child.name} exited before it was ready${stderrTail(child)}`);
    const status = await probe(url);
    if (status !== null && ready(status)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${child.name} not ready after ${timeoutMs} ms${stderrTail(child)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Turns a self-contained bench script (upstream.ts, bare-hop.ts) into plain JS in `outDir`, so
 * its process runs on bare Node: a TS loader in the child would double its RSS and add work.
 * `outDir` must lie inside the project so that packages (undici) resolve.
 */
export function transpileScript(source: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const output = ts.transpileModule(readFileSync(source, 'utf8'), {
    fileName: source,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  const target = join(outDir, basename(source).replace(/\.ts$/, '.mjs'));
  writeFileSync(target, output.outputText);
  return target;
}
