/**
 * The `telemetry` energy method's fit (docs/energy.md, method 1). Over a window of scrapes of a
 * deployment's GPU energy and its inference server's token counters, every interval between
 * two scrapes gives one equation
 *
 *     ΔE (J) = a · Δprompt_tokens + b · Δoutput_tokens + c · Δt (s)
 *
 * and least squares over the window gives a (J per input token), b (J per output token) and c
 * (idle watts). The coefficients are physical, so they are kept non-negative: the fit is the
 * exact non-negative least-squares optimum, found by solving every subset of the three columns
 * (seven small systems) and keeping the best feasible one — simpler and exact for three
 * unknowns, where a general NNLS solver would be a dependency for nothing.
 *
 * A window that cannot tell the three apart (no traffic, traffic so steady that tokens move in
 * lockstep with time, prompt and output tokens in a fixed ratio) gives no fit, and the
 * deployment keeps its parametric model.
 */

/** One scrape: cumulative counters at time `t`. */
export interface TelemetrySample {
  /** Epoch milliseconds of the scrape. */
  readonly t: number;
  /** Joules the deployment's GPUs consumed since some origin (DCGM counter, or integrated power). */
  readonly energyJ: number;
  /** Cumulative prompt and generated tokens of the inference server. */
  readonly promptTokens: number;
  readonly outputTokens: number;
  /** This sample does not continue the previous one (a counter reset or a gap in integrated power). */
  readonly reset?: boolean;
}

export interface EnergyFit {
  /** Joules at the GPUs per prompt token, per generated token, and idle watts. */
  readonly inputJ: number;
  readonly outputJ: number;
  readonly idleW: number;
  /** Intervals the fit used. */
  readonly intervals: number;
  /** Share of the variance of ΔE the fit explains (1 = all). */
  readonly r2: number;
}

export interface FitOptions {
  /** Fewest usable intervals for a fit. */
  readonly minIntervals?: number;
  /** Fewest intervals with both prompt and generated tokens. */
  readonly minTrafficIntervals?: number;
  /**
   * Smallest determinant of the columns' normalised Gram matrix (1: independent, 0: collinear).
   * Below it the columns are too close to collinear for the coefficients to mean anything.
   */
  readonly minIndependence?: number;
}

export const DEFAULT_FIT_OPTIONS: Required<FitOptions> = { minIntervals: 10, minTrafficIntervals: 5, minIndependence: 1e-4 };

/** The columns and target of the regression, one row per usable interval. */
interface Intervals {
  readonly prompt: number[];
  readonly output: number[];
  readonly seconds: number[];
  readonly joules: number[];
  traffic: number;
}

/**
 * The intervals between consecutive samples that continue each other: a sample marked `reset`,
 * or any counter that went down (an exporter or server restart), starts a new segment, and the
 * interval across the break is dropped rather than read as negative use.
 */
export function intervalsOf(samples: readonly TelemetrySample[]): Intervals {
  const rows: Intervals = { prompt: [], output: [], seconds: [], joules: [], traffic: 0 };
  for (let i = 1; i < samples.length; i++) {
    const previous = samples[i - 1]!;
    const sample = samples[i]!;
    const dt = (sample.t - previous.t) / 1000;
    const dE = sample.energyJ - previous.energyJ;
    const dp = sample.promptTokens - previous.promptTokens;
    const dout = sample.outputTokens - previous.outputTokens;
    if (sample.reset === true || dt <= 0 || dE < 0 || dp < 0 || dout < 0) continue;
    rows.prompt.push(dp);
    rows.output.push(dout);
    rows.seconds.push(dt);
    rows.joules.push(dE);
    if (dp > 0 && dout > 0) rows.traffic++;
  }
  return rows;
}

/** Fits a, b, c over the samples; null when the window cannot determine them. */
export function fitEnergy(samples: readonly TelemetrySample[], options: FitOptions = {}): EnergyFit | null {
  const settings = { ...DEFAULT_FIT_OPTIONS, ...options };
  const rows = intervalsOf(samples);
  const n = rows.joules.length;
  if (n < settings.minIntervals || rows.traffic < settings.minTrafficIntervals) return null;
  const columns = [rows.prompt, rows.output, rows.seconds];
  // Scaling every column to unit length keeps the normal equations well conditioned whatever
  // the units (thousands of tokens against seconds), and makes the Gram determinant a measure
  // of collinearity alone.
  const norms = columns.map((column) => Math.sqrt(dot(column, column)));
  if (norms.some((norm) => norm === 0)) return null;
  const scaled = columns.map((column, j) => column.map((value) => value / norms[j]!));
  const gram = scaled.map((left) => scaled.map((right) => dot(left, right)));
  if (determinant3(gram) < settings.minIndependence) return null;
  const moments = scaled.map((column) => dot(column, rows.joules));
  const best = nonNegativeLeastSquares(gram, moments, rows.joules);
  if (best === null) return null;
  const [inputJ, outputJ, idleW] = best.coefficients.map((value, j) => value / norms[j]!) as [number, number, number];
  const mean = rows.joules.reduce((sum, value) => sum + value, 0) / n;
  const total = rows.joules.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { inputJ, outputJ, idleW, intervals: n, r2: total === 0 ? 1 : 1 - best.residual / total };
}

/**
 * The non-negative minimiser of |y − Xβ|² given XᵀX (`gram`), Xᵀy (`moments`) and y: the best
 * of the unconstrained solutions on each subset of columns whose coefficients are all ≥ 0 (the
 * optimum's non-zero coefficients solve the unconstrained problem on their own columns).
 */
function nonNegativeLeastSquares(gram: number[][], moments: number[], y: readonly number[]): { coefficients: number[]; residual: number } | null {
  const k = moments.length;
  const yy = dot(y, y);
  let best: { coefficients: number[]; residual: number } | null = null;
  for (let mask = 1; mask < 1 << k; mask++) {
    const active = [...Array(k).keys()].filter((j) => (mask >> j) & 1);
    const solved = solve(
      active.map((row) => active.map((column) => gram[row]![column]!)),
      active.map((row) => moments[row]!),
    );
    if (solved === null || solved.some((value) => value < 0)) continue;
    const coefficients = new Array<number>(k).fill(0);
    active.forEach((j, index) => (coefficients[j] = solved[index]!));
    // |y − Xβ|² = yᵀy − 2βᵀXᵀy + βᵀXᵀXβ
    let residual = yy;
    for (let i = 0; i < k; i++) {
      residual -= 2 * coefficients[i]! * moments[i]!;
      for (let j = 0; j < k; j++) residual += coefficients[i]! * gram[i]![j]! * coefficients[j]!;
    }
    if (best === null || residual < best.residual) best = { coefficients, residual: Math.max(0, residual) };
  }
  return best;
}

/** Solves A·x = b by Gaussian elimination with partial pivoting; null when A is singular. */
function solve(matrix: number[][], rhs: number[]): number[] | null {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    if (Math.abs(a[pivot]![col]!) < 1e-12) return null;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const pivotRow = a[col]!;
    for (let row = col + 1; row < n; row++) {
      const target = a[row]!;
      const factor = target[col]! / pivotRow[col]!;
      for (let j = col; j <= n; j++) target[j] = target[j]! - factor * pivotRow[j]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = a[row]![n]!;
    for (let j = row + 1; j < n; j++) sum -= a[row]![j]! * x[j]!;
    x[row] = sum / a[row]![row]!;
  }
  return x;
}

function determinant3(m: number[][]): number {
  const [a, b, c] = m as [number[], number[], number[]];
  return a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
}

function dot(left: readonly number[], right: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < left.length; i++) sum += left[i]! * right[i]!;
  return sum;
}
