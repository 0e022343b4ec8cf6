import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { httpText } from './http.js';
import { join, resolve } from 'node:path';
import { ChildProcesses, freePort, transpileScript, waitUntilReady, type BenchChild } from './children.js';

export type TargetName = 'direct' | 'bare-hop' | 'stellwerk';
export const TARGETS: readonly TargetName[] = ['direct', 'bare-hop', 'stellwerk'];

export type Mode = 'non-stream' | 'stream';
export const MODES: readonly Mode[] = ['non-stream', 'stream'];

/** The alias clients send; the upstream model id is what the bare hop and Stellwerk put in its place. */
export const ALIAS = 'bench';
const UPSTREAM_MODEL = 'bench-upstream-model';

export const CHAT_PATH = '/v1/chat/completions';

export const REQUEST_BODIES: Readonly<Record<Mode, string>> = {
  'non-stream': JSON.stringify({ model: ALIAS, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 }),
  stream: JSON.stringify({
    model: ALIAS,
    messages: [{ role: 'user', content: 'Say hello.' }],
    max_tokens: 16,
    stream: true,
    stream_options: { include_usage: true },
  }),
};

/** A process under load: where to send requests and which pid to watch. */
export interface Target {
  readonly name: TargetName;
  readonly child: BenchChild;
  readonly url: string;
}

export interface StartedTargets {
  readonly targets: Readonly<Record<TargetName, Target>>;
  readonly stellwerkLog: string;
  readonly readyMs: Readonly<Record<TargetName, number>>;
}

export interface TargetOptions {
  readonly root: string;
  readonly tmp: string;
  /** Extra node flags for Stellwerk's process (e.g. --cpu-prof). */
  readonly stellwerkNodeArgs: readonly string[];
}

/** The zero-latency upstream (upstream.ts) as a process of its own on a free port; not yet waited for. */
export async function startUpstream(children: ChildProcesses, root: string, tmp: string): Promise<BenchChild> {
  const port = await freePort();
  return children.start({
    name: 'upstream',
    script: transpileScript(join(root, 'bench/upstream.ts'), join(root, 'bench/.cache')),
    args: ['--port', String(port)],
    port,
    stdoutPath: null,
    stderrPath: join(tmp, 'upstream.stderr'),
    cwd: root,
  });
}

/**
 * The bare hop (bare-hop.ts) as a process of its own on a free port, forwarding to `upstreamUrl`
 * with the upstream's model id; not yet waited for. `name` names its process (and stderr file).
 */
export async function startBareHop(
  children: ChildProcesses,
  root: string,
  tmp: string,
  upstreamUrl: string,
  options: { readonly name?: string; readonly nodeArgs?: readonly string[] } = {},
): Promise<BenchChild> {
  const port = await freePort();
  const name = options.name ?? 'bare-hop';
  return children.start({
    name,
    nodeArgs: options.nodeArgs,
    script: transpileScript(join(root, 'bench/bare-hop.ts'), join(root, 'bench/.cache')),
    args: ['--port', String(port), '--upstream', upstreamUrl, '--model', UPSTREAM_MODEL],
    port,
    stdoutPath: null,
    stderrPath: join(tmp, `${name}.stderr`),
    cwd: root,
  });
}

/**
 * A `--target` of the side-by-side tools: `bare` (the bare hop), `stellwerk` (./dist), or
 * `NAME=DIST_DIR` (another build of Stellwerk). `dist` is null for the bare hop.
 */
export function parseTargetSpec(spec: string, root: string): { readonly name: string; readonly dist: string | null } {
  const at = spec.indexOf('=');
  if (at >= 0) return { name: spec.slice(0, at), dist: resolve(spec.slice(at + 1)) };
  return { name: spec, dist: spec === 'bare' ? null : join(root, 'dist') };
}

/** Starts the upstream, the bare hop and Stellwerk, each as its own process, and waits until each answers. */
export async function startTargets(children: ChildProcesses, options: TargetOptions): Promise<StartedTargets> {
  const { root, tmp } = options;
  const main = join(root, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm run bench does)`);
  const upstream = await startUpstream(children, root, tmp);
  const bareHop = await startBareHop(children, root, tmp, upstream.baseUrl);
  const stellwerkPort = await freePort();
  const configPath = join(tmp, 'stellwerk.yaml');
  writeFileSync(configPath, stellwerkConfig(stellwerkPort, upstream.baseUrl, join(tmp, 'stellwerk.db')));
  const stellwerkLog = join(tmp, 'stellwerk.log');
  const stellwerk = children.start({
    name: 'stellwerk',
    nodeArgs: options.stellwerkNodeArgs,
    script: main,
    args: ['start', '--config', configPath, '--port', String(stellwerkPort)],
    port: stellwerkPort,
    stdoutPath: stellwerkLog,
    stderrPath: join(tmp, 'stellwerk.stderr'),
    cwd: root,
  });

  const anyAnswer = () => true;
  const [upstreamMs, bareHopMs, stellwerkMs] = await Promise.all([
    waitUntilReady(upstream, upstream.baseUrl + '/', anyAnswer),
    waitUntilReady(bareHop, bareHop.baseUrl + '/', anyAnswer),
    waitUntilReady(stellwerk, stellwerk.baseUrl + '/healthz', (status) => status === 200),
  ]);
  return {
    targets: {
      direct: { name: 'direct', child: upstream, url: upstream.baseUrl + CHAT_PATH },
      'bare-hop': { name: 'bare-hop', child: bareHop, url: bareHop.baseUrl + CHAT_PATH },
      stellwerk: { name: 'stellwerk', child: stellwerk, url: stellwerk.baseUrl + CHAT_PATH },
    },
    stellwerkLog,
    readyMs: { direct: upstreamMs, 'bare-hop': bareHopMs, stellwerk: stellwerkMs },
  };
}

/**
 * One alias on the upstream, with the defaults otherwise: the log line per request and the
 * request log in SQLite, here a fresh file in the run's temp folder (not ./data of the checkout,
 * and not one that grows from run to run).
 */
/**
 * The node flags `npm start` runs Stellwerk with (package.json's start script): the benchmark
 * measures Stellwerk as it is started, so its processes get them too.
 */
export function startFlags(root: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const words = (scripts.start ?? '').split(/\s+/);
  const script = words.indexOf('dist/cli/main.js');
  if (words[0] !== 'node' || script < 0) throw new Error(`package.json's start script does not run "node … dist/cli/main.js": ${scripts.start}`);
  return words.slice(1, script);
}

export function stellwerkConfig(port: number, upstreamBaseUrl: string, sqlitePath: string, postgres?: { readonly databaseUrl: string; readonly pepper: string }): string {
  const store =
    postgres === undefined ? '' : `  database_url: ${JSON.stringify(postgres.databaseUrl)}\n  key_pepper: ${JSON.stringify(postgres.pepper)}\n`;
  return `# Generated by bench/run.ts
server:
  host: 127.0.0.1
  port: ${port}
logging:
  level: info
governance:
  sqlite_path: ${JSON.stringify(sqlitePath)}
${store}models:
  - name: ${ALIAS}
    deployments:
      - provider: openai-compatible
        name: bench-upstream
        base_url: ${upstreamBaseUrl}/v1
        model: ${UPSTREAM_MODEL}
`;
}

/**
 * Sends one request of `mode` and checks that a real answer came back (status, shape, the
 * stream's events), so that a fast run of errors is not mistaken for a fast gateway.
 */
export async function checkAnswer(target: Target, mode: Mode): Promise<void> {
  const { status, body } = await post(target.url, REQUEST_BODIES[mode]);
  const where = `${target.name} (${mode})`;
  if (status !== 200) throw new Error(`${where} answered ${status}: ${body.slice(0, 500)}`);
  if (mode === 'non-stream') {
    const parsed = JSON.parse(body) as { object?: string; choices?: { message?: { content?: string } }[]; usage?: unknown };
    if (parsed.object !== 'chat.completion' || typeof parsed.choices?.[0]?.message?.content !== 'string' || parsed.usage == null) {
      throw new Error(`${where} answered an unexpected body: ${body.slice(0, 500)}`);
    }
    return;
  }
  const events = body.split('\n\n').filter((event) => event.startsWith('data: '));
  const chunks = events.filter((event) => event.includes('"chat.completion.chunk"'));
  const usage = chunks.filter((event) => event.includes('"usage":{'));
  if (chunks.length < 11 || usage.length !== 1 || events[events.length - 1] !== 'data: [DONE]') {
    throw new Error(`${where} streamed ${chunks.length} chunks, ${usage.length} usage chunks: ${body.slice(0, 500)}`);
  }
}

function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return httpText('POST', url, { 'content-type': 'application/json' }, body, 5_000);
}
