import { readFileSync } from 'node:fs';

/**
 * Request traces: arrival times and token counts, without texts. The format is the Azure LLM
 * inference trace's CSV (`TIMESTAMP,ContextTokens,GeneratedTokens`, timestamps like
 * `2023-11-16 18:15:46.6805900`); a TIMESTAMP that is a plain number is read as seconds, which
 * keeps synthetic traces short to write.
 */
export interface TraceRequest {
  /** Seconds after the trace's first request. */
  readonly at: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

export class TraceError extends Error {}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

function seconds(stamp: string, line: number): number {
  if (/^\d+(\.\d+)?$/.test(stamp)) return Number(stamp);
  const m = DATE_TIME.exec(stamp);
  if (m === null) throw new TraceError(`line ${line}: "${stamp}" is neither a date-time nor a number of seconds`);
  const whole = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
  return whole + (m[7] === undefined ? 0 : Number(m[7]));
}

function count(text: string, what: string, line: number, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new TraceError(`line ${line}: ${what} must be an integer >= ${min}, got "${text}"`);
  return value;
}

/** Parses CSV text; requests come back sorted by arrival, times relative to the first. */
export function parseTrace(text: string): TraceRequest[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim().toLowerCase();
  if (header !== 'timestamp,contexttokens,generatedtokens') throw new TraceError('the first line must be the header TIMESTAMP,ContextTokens,GeneratedTokens');
  const rows: { at: number; promptTokens: number; outputTokens: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split(',');
    if (fields.length !== 3) throw new TraceError(`line ${i + 1}: expected 3 fields, got ${fields.length}`);
    rows.push({ at: seconds(fields[0]!, i + 1), promptTokens: count(fields[1]!, 'ContextTokens', i + 1, 1), outputTokens: count(fields[2]!, 'GeneratedTokens', i + 1, 0) });
  }
  if (rows.length === 0) throw new TraceError('the trace has no requests');
  rows.sort((a, b) => a.at - b.at);
  const start = rows[0]!.at;
  // A request that generated nothing still costs a prefill and yields one token on a server.
  return rows.map((row) => ({ at: row.at - start, promptTokens: row.promptTokens, outputTokens: Math.max(1, row.outputTokens) }));
}

export function readTrace(path: string): TraceRequest[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TraceError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseTrace(text);
}

/** The requests arriving in [from, from + seconds), with times relative to `from`. */
export function traceWindow(trace: readonly TraceRequest[], from: number, seconds: number): TraceRequest[] {
  return trace.filter((r) => r.at >= from && r.at < from + seconds).map((r) => ({ ...r, at: r.at - from }));
}
