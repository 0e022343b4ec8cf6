/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function, self time by
 * area (Stellwerk's own files, each package, Node internals, GC), and total (inclusive) time of
 * Stellwerk's own functions.
 *
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const top = Number(values.top);
// Piped into `head`: stop quietly when the reader has had enough.
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

/** Microseconds of samples that landed in each node. */
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = [...selfUs.values()].reduce((sum, us) => sum + us, 0);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url === '' ? name : `${name}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function area(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native/builtin)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return `stellwerk ${url.slice(dist + '/dist/'.length).split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

const selfByFunction = new Map<string, number>();
const selfByArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  add(selfByFunction, functionKey(frame), us);
  add(selfByArea, area(frame), us);
}

/** Inclusive time of Stellwerk's own functions (dist/), each counted once per stack. */
const inclusive = new Map<string, number>();
function walk(id: number, onStack: Set<string>): number {
  const node = byId.get(id)!;
  let us = selfUs.get(id) ?? 0;
  const key = node.callFrame.url.includes('/dist/') ? functionKey(node.callFrame) : null;
  const counted = key !== null && !onStack.has(key);
  if (counted) onStack.add(key);
  for (const child of node.children ?? []) us += walk(child, onStack);
  if (counted) {
    onStack.delete(key);
    add(inclusive, key, us);
  }
  return us;
}
const root = profile.nodes[0];
if (root !== undefined) walk(root.id, new Set());

function print(title: string, map: Map<string, number>, limit: number): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, limit);
  for (const [key, us] of rows) {
    process.stdout.write(`${((us / totalUs) * 100).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
  }
}

process.stdout.write(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled, ${profile.samples.length} samples\n`);
print('Self time by area', selfByArea, top);
print('Self time by function', selfByFunction, top);
print("Total time of Stellwerk's functions (self + callees)", inclusive, top);
