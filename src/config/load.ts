import { readFileSync } from 'node:fs';
import YAML, { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { extractReferences, hasPlaceholder, resolvePlaceholders, type Environment, type Reference } from './env.js';

/** One thing wrong with a config, located in its file. */
export interface ConfigProblem {
  readonly source: string;
  readonly line: number | null;
  readonly column: number | null;
  /** The field, as `models[0].deployments[1].base_url`. */
  readonly field: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === null ? problem.source : `${problem.source}:${problem.line}:${problem.column ?? 1}`;
  return problem.field === '' ? `${where}: ${problem.message}` : `${where}: ${problem.field}: ${problem.message}`;
}

export function loadConfigFile(path: string, env: Environment = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file (${(error as Error).message})`;
    throw new ConfigError([{ source: path, line: null, column: null, field: '', message: reason }]);
  }
  return parseConfig(text, path, env);
}

/** Parses, substitutes `${VAR}` references and validates a YAML config; throws ConfigError. */
export function parseConfig(text: string, source: string, env: Environment = process.env): Config {
  const extracted = extractReferences(text);
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(extracted.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { line: null, column: null };
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => ({ source, ...at(error.pos[0]), field: '', message: error.message.split('\n')[0]! })),
    );
  }
  const problems: ConfigProblem[] = [];
  substituteReferences(doc, extracted.references, env, (reference, field) =>
    problems.push({
      source,
      ...positionIn(text, reference.offset),
      field,
      message: `environment variable ${reference.name} is not set (write \${${reference.name}:-default} to give a default)`,
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const { path, node } = locate(doc, issue);
      return { source, ...at(node?.range?.[0]), field: formatPath(path), message: issue.message };
    }),
  );
}

/** Puts environment values into every scalar that held `${VAR}` references. */
function substituteReferences(
  doc: Document,
  references: readonly Reference[],
  env: Environment,
  reportMissing: (reference: Reference, field: string) => void,
): void {
  if (references.length === 0) return;
  YAML.visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !hasPlaceholder(node.value)) return;
      const result = resolvePlaceholders(node.value, references, env);
      for (const reference of result.missing) reportMissing(reference, formatPath(pathOf(path, node)));
      // An unquoted value that is one reference may be a number or boolean: port: ${PORT} is a number.
      node.value = result.wholeValue && node.type === 'PLAIN' ? scalarOf(result.value) : result.value;
    },
  });
}

function scalarOf(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

function positionIn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The key path of a node from the ancestors `YAML.visit` gives. */
function pathOf(ancestors: readonly unknown[], node: Node): (string | number)[] {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
    else if (isMap(parent)) continue;
    else if (YAML.isPair(parent) && isScalar(parent.key) && parent.value === child) path.push(String(parent.key.value));
  }
  return path;
}

/** Finds the deepest node of the document along an issue's path (or the offending key itself). */
function locate(doc: Document, issue: z.core.$ZodIssue): { path: PropertyKey[]; node: Node | null } {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
    const mapNode = doc.getIn(path as unknown[], true);
    const key = issue.keys[0]!;
    if (isMap(mapNode)) {
      const pair = mapNode.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (pair && isScalar(pair.key)) return { path: [...path, key], node: pair.key };
    }
  }
  for (let length = path.length; length >= 0; length--) {
    const node = doc.getIn(path.slice(0, length) as unknown[], true);
    if (node !== undefined && node !== null && typeof node === 'object' && 'range' in (node as object)) {
      return { path, node: node as Node };
    }
  }
  return { path, node: null };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
