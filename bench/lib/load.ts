import autocannon from 'autocannon';
import { round } from './sampler.js';

export interface LoadSpec {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly durationS: number;
  /** A fixed request rate instead of as fast as possible. */
  readonly rate?: FixedRate;
  /** Extra request headers (e.g. authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Whether this run's duration counts towards the accumulator's (default true). False for the
   * second of two runs that go on at the same time into one accumulator (load split over two
   * replicas): their answers add up, their seconds do not.
   */
  readonly addDuration?: boolean;
}

export interface FixedRate {
  readonly perSecond: number;
  /**
   * `paced`: requests spread evenly over each second (one every 1/rate s, connections taking
   * turns). `autocannon`: autocannon's own `overallRate`, which lets every connection send its
   * share of the second back to back at the start of each second — bursts, not a steady rate.
   */
  readonly mode: 'paced' | 'autocannon';
}

export interface LatencySummary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface LoadResult {
  readonly duration_s: number;
  /** Responses received (any status). */
  readonly responses: number;
  readonly requests_per_s: number;
  /** Latency of 200 answers in ms, from writing the request to the last byte of the answer. */
  readonly latency_ms: LatencySummary;
  /** Responses by HTTP status. */
  readonly status_counts: Record<string, number>;
  readonly non_200: number;
  readonly errors: number;
  readonly timeouts: number;
  /** autocannon's own view, for comparison (its latency histogram has 1 ms resolution; over slices, duration-weighted means). */
  readonly autocannon: { readonly requests_per_s_avg: number; readonly non2xx: number; readonly latency_p50: number; readonly latency_p99: number };
}

/**
 * Runs autocannon against one URL and records every response's latency itself, in fractions of
 * a millisecond: autocannon's histogram counts whole milliseconds, too coarse for a gateway
 * that should add well under one. Pass the same accumulator to several runs (slices of one
 * case) to get one result over all of them.
 */
export function runLoad(spec: LoadSpec, into = new LoadAccumulator()): Promise<LoadAccumulator> {
  const options: autocannon.Options = {
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    body: spec.body,
    connections: spec.connections,
    duration: spec.durationS,
    timeout: 10,
  };
  if (spec.rate?.mode === 'autocannon') options.overallRate = spec.rate.perSecond;
  if (spec.rate?.mode === 'paced') options.setupClient = pacedClients(spec.rate.perSecond, spec.connections);
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      into.addRun(result, spec.addDuration ?? true);
      resolve(into);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => into.addResponse(statusCode, responseTime));
  });
}

/** What one or more autocannon runs against the same target saw. */
export class LoadAccumulator {
  private readonly latencies = new LatencyRecorder();
  private readonly statuses = new Map<number, number>();
  private durationS = 0;
  private errors = 0;
  private timeouts = 0;
  private non2xx = 0;
  /** autocannon's per-run numbers, weighted by run duration. */
  private weighted = { rps: 0, p50: 0, p99: 0 };

  addResponse(statusCode: number, ms: number): void {
    this.statuses.set(statusCode, (this.statuses.get(statusCode) ?? 0) + 1);
    if (statusCode === 200) this.latencies.record(ms);
  }

  addRun(result: autocannon.Result, addDuration = true): void {
    if (!addDuration) {
      // A run alongside another one already counted: its answers add up, its seconds do not.
      this.errors += result.errors;
      this.timeouts += result.timeouts;
      this.non2xx += result.non2xx;
      this.weighted.rps += result.requests.average * result.duration;
      return;
    }
    this.durationS += result.duration;
    this.errors += result.errors;
    this.timeouts += result.timeouts;
    this.non2xx += result.non2xx;
    this.weighted.rps += result.requests.average * result.duration;
    this.weighted.p50 += result.latency.p50 * result.duration;
    this.weighted.p99 += result.latency.p99 * result.duration;
  }

  result(): LoadResult {
    let responses = 0;
    for (const count of this.statuses.values()) responses += count;
    const seconds = this.durationS;
    return {
      duration_s: round(seconds, 3),
      responses,
      requests_per_s: seconds > 0 ? round(responses / seconds, 1) : 0,
      latency_ms: this.latencies.summary(),
      status_counts: Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count])),
      non_200: responses - (this.statuses.get(200) ?? 0),
      errors: this.errors,
      timeouts: this.timeouts,
      autocannon: {
        requests_per_s_avg: seconds > 0 ? round(this.weighted.rps / seconds, 1) : 0,
        non2xx: this.non2xx,
        latency_p50: seconds > 0 ? round(this.weighted.p50 / seconds, 2) : 0,
        latency_p99: seconds > 0 ? round(this.weighted.p99 / seconds, 2) : 0,
      },
    };
  }
}

/** The private part of autocannon's Client this file relies on (lib/httpClient.js). */
interface AutocannonClientInternals {
  destroyed: boolean;
  _doRequest(): void;
}

/**
 * Makes autocannon send at a steady rate: connection k sends at k/rate, k/rate + n/rate, … (n
 * connections), so one request leaves every 1/rate s. A connection whose previous answer came
 * late sends at once; none sends before its slot.
 */
function pacedClients(perSecond: number, connections: number): (client: autocannon.Client) => void {
  const spacingMs = 1000 / perSecond;
  const intervalMs = spacingMs * connections;
  const origin = performance.now();
  let index = 0;
  return (client) => {
    const internals = client as unknown as AutocannonClientInternals;
    const send = (Object.getPrototypeOf(internals) as AutocannonClientInternals)._doRequest;
    let next = origin + index++ * spacingMs;
    internals._doRequest = () => {
      const wait = next - performance.now();
      next += intervalMs;
      if (wait <= 0) {
        send.call(internals);
        return;
      }
      setTimeout(() => {
        if (!internals.destroyed) send.call(internals);
      }, wait);
    };
  };
}

class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private count = 0;

  record(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.count).sort();
    const n = sorted.length;
    if (n === 0) return { mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
    let sum = 0;
    for (const value of sorted) sum += value;
    // Nearest rank: the smallest value with at least p% of the values at or below it.
    const at = (p: number) => round(sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!, 3);
    return { mean: round(sum / n, 3), p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: round(sorted[n - 1]!, 3) };
  }
}
