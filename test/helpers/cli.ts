import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout JSON log line that matches (also one already seen). */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited(): Promise<number | null>;
}

/** Runs the stellwerk CLI from source in a child process. */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, STELLWERK_CONFIG: undefined, STELLWERK_PORT: undefined, STELLWERK_HOST: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  const parsed: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      stdout.push(line);
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      parsed.push(json);
      for (const waiter of [...waiters]) {
        if (waiter.match(json)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(json);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout,
    stderr,
    waitForLog(match) {
      const seen = parsed.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exit.then((code) => reject(new Error(`stellwerk exited (${code}) before the log line; stderr: ${stderr.join('')}`)));
      });
    },
    exited: () => exit,
  };
}

/** Waits until the CLI says where it listens; returns the base URL. */
export async function listeningUrl(cli: CliProcess): Promise<string> {
  const line = await cli.waitForLog((json) => typeof json.msg === 'string' && json.msg.startsWith('Stellwerk listening on'));
  return `http://127.0.0.1:${line.port as number}`;
}
