/**
 * A parser of the Prometheus text exposition format (version 0.0.4, and the sample lines of
 * OpenMetrics that share it). Written here because the npm parsers are unmaintained and this is
 * small: one pass over the lines, no regular expressions per sample. Used off the request path
 * (the fleet scraper, energy accounting from DCGM exporters).
 */

/** One sample line: `name{labels} value [timestamp]`. Histogram and summary lines are samples too. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** NaN, +Inf and -Inf as JavaScript's NaN, Infinity and -Infinity. */
  readonly value: number;
  /** The sample's own timestamp (epoch ms) when the line carries one. */
  readonly timestampMs?: number;
}

/** A line that is not valid exposition text; the whole text is refused, as Prometheus does. */
export class PrometheusParseError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`metrics text line ${line}: ${reason}`);
    this.name = 'PrometheusParseError';
  }
}

/** Every sample of an exposition text, in order. Comments, HELP and TYPE lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    const sample = parseLine(line, lineNumber);
    if (sample !== null) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string, lineNumber: number): Sample | null {
  let at = skipBlanks(line, 0);
  if (at === line.length || line.charCodeAt(at) === 35 /* # */) return null;
  const nameEnd = scanName(line, at);
  if (nameEnd === at) throw new PrometheusParseError(lineNumber, 'expected a metric name');
  const name = line.slice(at, nameEnd);
  at = nameEnd;
  const labels: Record<string, string> = {};
  if (line.charCodeAt(at) === 123 /* { */) at = parseLabels(line, at + 1, labels, lineNumber);
  const valueStart = skipBlanks(line, at);
  if (valueStart === at) throw new PrometheusParseError(lineNumber, `expected a value after ${name}`);
  let valueEnd = valueStart;
  while (valueEnd < line.length && !isBlank(line.charCodeAt(valueEnd))) valueEnd++;
  const value = parseNumber(line.slice(valueStart, valueEnd));
  if (value === undefined) throw new PrometheusParseError(lineNumber, `"${line.slice(valueStart, valueEnd)}" is not a number`);
  at = skipBlanks(line, valueEnd);
  if (at === line.length) return { name, labels, value };
  let stampEnd = at;
  while (stampEnd < line.length && !isBlank(line.charCodeAt(stampEnd))) stampEnd++;
  const stamp = Number(line.slice(at, stampEnd));
  if (!Number.isFinite(stamp) || skipBlanks(line, stampEnd) !== line.length) {
    throw new PrometheusParseError(lineNumber, `unexpected "${line.slice(at)}" after the value`);
  }
  return { name, labels, value, timestampMs: stamp };
}

/** Labels up to the closing brace; returns the index after it. A trailing comma is allowed. */
function parseLabels(line: string, at: number, labels: Record<string, string>, lineNumber: number): number {
  for (;;) {
    at = skipBlanks(line, at);
    if (line.charCodeAt(at) === 125 /* } */) return at + 1;
    const nameEnd = scanLabelName(line, at);
    if (nameEnd === at) throw new PrometheusParseError(lineNumber, 'expected a label name');
    const labelName = line.slice(at, nameEnd);
    at = skipBlanks(line, nameEnd);
    if (line.charCodeAt(at) !== 61 /* = */) throw new PrometheusParseError(lineNumber, `expected = after label ${labelName}`);
    at = skipBlanks(line, at + 1);
    if (line.charCodeAt(at) !== 34 /* " */) throw new PrometheusParseError(lineNumber, `expected a quoted value for label ${labelName}`);
    let value = '';
    let chunkStart = ++at;
    for (;;) {
      if (at >= line.length) throw new PrometheusParseError(lineNumber, `unterminated value of label ${labelName}`);
      const code = line.charCodeAt(at);
      if (code === 34) break;
      if (code === 92 /* \ */) {
        value += line.slice(chunkStart, at);
        const escaped = line[at + 1];
        value += escaped === 'n' ? '\n' : escaped === '\\' ? '\\' : escaped === '"' ? '"' : `\\${escaped ?? ''}`;
        at += 2;
        chunkStart = at;
        continue;
      }
      at++;
    }
    labels[labelName] = value + line.slice(chunkStart, at);
    at = skipBlanks(line, at + 1);
    const next = line.charCodeAt(at);
    if (next === 44 /* , */) at++;
    else if (next !== 125) throw new PrometheusParseError(lineNumber, 'expected , or } after a label');
  }
}

function parseNumber(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (text.length === 0) return undefined;
  const value = Number(text);
  // Number() accepts '0x10', '' and '  '; the format only has decimal floats.
  return Number.isNaN(value) || /[xXoObB]/.test(text) ? undefined : value;
}

function scanName(line: string, at: number): number {
  let end = at;
  while (end < line.length) {
    const code = line.charCodeAt(end);
    const ok = isLetter(code) || code === 95 /* _ */ || code === 58 /* : */ || (end > at && isDigit(code));
    if (!ok) break;
    end++;
  }
  return end;
}

function scanLabelName(line: string, at: number): number {
  let end = at;
  while (end < line.length) {
    const code = line.charCodeAt(end);
    if (!(isLetter(code) || code === 95 || (end > at && isDigit(code)))) break;
    end++;
  }
  return end;
}

function skipBlanks(line: string, at: number): number {
  while (at < line.length && isBlank(line.charCodeAt(at))) at++;
  return at;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
