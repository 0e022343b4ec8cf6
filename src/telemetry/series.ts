import type { Registry } from 'prom-client';

/**
 * Metric families for the request path: each series is a plain object the caller keeps and
 * updates with one addition, and the family formats them for prom-client's registry when
 * /metrics is scraped. prom-client's own labelled metrics hash the label object on every inc()
 * and observe() (a string built per call) and keep histogram buckets under string keys; at
 * thousands of requests per second, with eight or so updates per request, that was a measurable
 * share of the request's CPU and of its garbage. Everything off the request path stays with
 * prom-client's classes.
 *
 * A family is registered like any prom-client metric (the registry only calls get(), reset()
 * and reads name, help, type and aggregator), so the exposition format is prom-client's.
 */

type LabelValues<N extends string> = Readonly<Record<N, string | number>>;

interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface MetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: MetricValue[];
  readonly aggregator: 'sum';
}

abstract class Family<N extends string, S> {
  abstract readonly type: MetricObject['type'];
  readonly aggregator = 'sum' as const;
  private readonly all = new Map<string, { readonly labels: LabelValues<N>; readonly series: S }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly N[],
  ) {
    // The registry's parameter type names prom-client's classes; it uses only what Family has.
    registry.registerMetric(this as never);
  }

  /** The series of these labels, made on first use. Look it up once and keep it: this builds a key. */
  series(labels: LabelValues<N>): S {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    let entry = this.all.get(key);
    if (entry === undefined) {
      const copy = {} as Record<N, string | number>;
      for (const name of this.labelNames) copy[name] = labels[name];
      entry = { labels: copy, series: this.create() };
      this.all.set(key, entry);
    }
    return entry.series;
  }

  protected abstract create(): S;
  protected abstract valuesOf(labels: LabelValues<N>, series: S, into: MetricValue[]): void;

  get(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    for (const { labels, series } of this.all.values()) this.valuesOf(labels, series, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** prom-client's registry.resetMetrics(): every series back to zero (kept, as callers hold them). */
  abstract reset(): void;

  protected *eachSeries(): Iterable<S> {
    for (const entry of this.all.values()) yield entry.series;
  }
}

/** A family whose series each hold one number (counters, gauges). */
abstract class ValueFamily<N extends string, S extends { value: number }> extends Family<N, S> {
  protected valuesOf(labels: LabelValues<N>, series: S, into: MetricValue[]): void {
    into.push({ labels: { ...labels }, value: series.value });
  }

  reset(): void {
    for (const series of this.eachSeries()) series.value = 0;
  }
}

/** A monotonically increasing count. */
export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class CounterFamily<N extends string> extends ValueFamily<N, CounterSeries> {
  readonly type = 'counter' as const;

  protected create(): CounterSeries {
    return new CounterSeries();
  }
}

/** A value that goes up and down (e.g. requests in flight). */
export class GaugeSeries {
  value = 0;

  inc(): void {
    this.value += 1;
  }

  dec(): void {
    this.value -= 1;
  }
}

export class GaugeFamily<N extends string> extends ValueFamily<N, GaugeSeries> {
  readonly type = 'gauge' as const;

  protected create(): GaugeSeries {
    return new GaugeSeries();
  }
}

/** Observations counted into fixed buckets (upper bounds, inclusive), with their sum and count. */
export class HistogramSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HistogramFamily<N extends string> extends Family<N, HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly N[],
    private readonly bounds: readonly number[],
  ) {
    super(registry, name, help, labelNames);
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  protected valuesOf(labels: LabelValues<N>, series: HistogramSeries, into: MetricValue[]): void {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += series.counts[index]!;
      into.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: bucket });
    });
    into.push({ labels: { ...labels, le: '+Inf' }, value: series.count, metricName: bucket });
    into.push({ labels: { ...labels }, value: series.sum, metricName: `${this.name}_sum` });
    into.push({ labels: { ...labels }, value: series.count, metricName: `${this.name}_count` });
  }

  reset(): void {
    for (const series of this.eachSeries()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
