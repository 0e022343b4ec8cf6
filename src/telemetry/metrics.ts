import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdmissionPath, LimitCounts } from '../guard/limits/types.js';
import { CounterFamily, GaugeFamily, HistogramFamily, type CounterSeries, type GaugeSeries, type HistogramSeries } from './series.js';

/** What the metrics need to know of a deployment. */
export interface DeploymentView {
  readonly name: string;
  circuitState(now: number): string;
  inFlight(): number;
}

const ADMISSION_PATHS: readonly AdmissionPath[] = ['memory', 'redis', 'lease'];

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The series of one endpoint, alias and deployment that every request there updates. */
export class RouteSeries {
  private readonly byStatus = new Map<number, CounterSeries>();
  private readonly byTeam = new Map<string, AccountingSeries>();
  readonly duration: HistogramSeries;
  // Made on first use, so that /metrics shows no empty series (no TTFT where nothing streams).
  #ttft: HistogramSeries | null = null;
  #tokens: { readonly prompt: CounterSeries; readonly completion: CounterSeries } | null = null;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly endpoint: string,
    private readonly alias: string,
    private readonly deployment: string,
  ) {
    this.duration = metrics.duration.series({ endpoint, alias, deployment });
  }

  get ttft(): HistogramSeries {
    return (this.#ttft ??= this.metrics.timeToFirstToken.series({ alias: this.alias, deployment: this.deployment }));
  }

  /** Prompt and completion token counters. */
  get tokens(): { readonly prompt: CounterSeries; readonly completion: CounterSeries } {
    if (this.#tokens === null) {
      const { alias, deployment } = this;
      this.#tokens = { prompt: this.metrics.tokens.series({ alias, deployment, kind: 'prompt' }), completion: this.metrics.tokens.series({ alias, deployment, kind: 'completion' }) };
    }
    return this.#tokens;
  }

  requests(status: number): CounterSeries {
    let series = this.byStatus.get(status);
    if (series === undefined) {
      series = this.metrics.requests.series({ endpoint: this.endpoint, alias: this.alias, deployment: this.deployment, status });
      this.byStatus.set(status, series);
    }
    return series;
  }

  accounting(team: string): AccountingSeries {
    let series = this.byTeam.get(team);
    if (series === undefined) {
      const labels = { alias: this.alias, deployment: this.deployment, team };
      const { costUsd, energyWh, co2eGrams } = this.metrics;
      series = { cost: costUsd.series(labels), energy: energyWh.series(labels), co2e: co2eGrams.series(labels) };
      this.byTeam.set(team, series);
    }
    return series;
  }
}

export interface AccountingSeries {
  readonly cost: CounterSeries;
  readonly energy: CounterSeries;
  readonly co2e: CounterSeries;
}

/**
 * Prometheus series, all prefixed `stellwerk_`. Labels are bounded by the config: an alias a
 * client invents is counted as "" so that no client can grow the series without end. The series
 * every request updates are src/telemetry/series.ts families, looked up through nested maps of
 * the (interned) label strings rather than a key built per request; the rest are prom-client's.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: CounterFamily<'endpoint' | 'alias' | 'deployment' | 'status'>;
  readonly duration: HistogramFamily<'endpoint' | 'alias' | 'deployment'>;
  readonly timeToFirstToken: HistogramFamily<'alias' | 'deployment'>;
  readonly upstreamErrors: Counter<'deployment' | 'code'>;
  readonly inFlight: GaugeFamily<'endpoint'>;
  readonly tokens: CounterFamily<'alias' | 'deployment' | 'kind'>;
  readonly attempts: CounterFamily<'deployment' | 'outcome'>;
  readonly fallbacks: Counter<'alias' | 'fallback'>;
  readonly requestLogDropped: Counter;
  readonly requestLogCatchUp: Counter;
  /** Accounting (src/accounting): USD, facility Wh and gCO₂e of answered requests. */
  readonly costUsd: CounterFamily<'alias' | 'deployment' | 'team'>;
  readonly energyWh: CounterFamily<'alias' | 'deployment' | 'team'>;
  readonly co2eGrams: CounterFamily<'alias' | 'deployment' | 'team'>;
  readonly piiDetections: Counter<'type' | 'mode'>;
  /** Set by the governance: rows waiting for the request log. */
  requestLogQueue: () => number = () => 0;
  /** Set by the governance: the limit backend's running totals (null: no governance). */
  limitCounts: () => LimitCounts | null = () => null;
  /** Set by the gateway: the deployments of the running config, for the state gauges. */
  deploymentsSource: () => Iterable<DeploymentView> = () => [];

  /** endpoint → alias → deployment → series. */
  private readonly routes = new Map<string, Map<string, Map<string, RouteSeries>>>();
  /** deployment → outcome → series. */
  private readonly attemptsBy = new Map<string, Map<string, CounterSeries>>();
  private readonly inFlightBy = new Map<string, GaugeSeries>();

  /** The series of requests to `endpoint` answered through `alias` and `deployment` ('' for none). */
  route(endpoint: string, alias: string, deployment: string): RouteSeries {
    let byAlias = this.routes.get(endpoint);
    if (byAlias === undefined) this.routes.set(endpoint, (byAlias = new Map()));
    let byDeployment = byAlias.get(alias);
    if (byDeployment === undefined) byAlias.set(alias, (byDeployment = new Map()));
    let series = byDeployment.get(deployment);
    if (series === undefined) {
      series = new RouteSeries(this, endpoint, alias, deployment);
      byDeployment.set(deployment, series);
    }
    return series;
  }

  inFlightSeries(endpoint: string): GaugeSeries {
    let series = this.inFlightBy.get(endpoint);
    if (series === undefined) this.inFlightBy.set(endpoint, (series = this.inFlight.series({ endpoint })));
    return series;
  }

  attemptSeries(deployment: string, outcome: string): CounterSeries {
    let byOutcome = this.attemptsBy.get(deployment);
    if (byOutcome === undefined) this.attemptsBy.set(deployment, (byOutcome = new Map()));
    let series = byOutcome.get(outcome);
    if (series === undefined) byOutcome.set(outcome, (series = this.attempts.series({ deployment, outcome })));
    return series;
  }

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'stellwerk_process_' });
    this.requests = new CounterFamily(
      this.registry,
      'stellwerk_requests_total',
      'Requests answered, by endpoint, model alias, deployment and HTTP status (499: client left).',
      ['endpoint', 'alias', 'deployment', 'status'],
    );
    this.duration = new HistogramFamily(
      this.registry,
      'stellwerk_request_duration_seconds',
      'Time from receiving a request to the last byte of its answer.',
      ['endpoint', 'alias', 'deployment'],
      LATENCY_BUCKETS,
    );
    this.timeToFirstToken = new HistogramFamily(
      this.registry,
      'stellwerk_time_to_first_token_seconds',
      'Time from receiving a streamed request to sending its first token to the client.',
      ['alias', 'deployment'],
      LATENCY_BUCKETS,
    );
    this.upstreamErrors = new Counter({
      name: 'stellwerk_upstream_errors_total',
      help: 'Failed upstream calls, by deployment and error code.',
      labelNames: ['deployment', 'code'],
      registers,
    });
    this.inFlight = new GaugeFamily(this.registry, 'stellwerk_in_flight_requests', 'Requests being answered right now.', ['endpoint']);
    this.attempts = new CounterFamily(
      this.registry,
      'stellwerk_upstream_attempts_total',
      'Calls to upstream deployments (retries included), by deployment and outcome (ok or error code).',
      ['deployment', 'outcome'],
    );
    this.fallbacks = new Counter({
      name: 'stellwerk_fallbacks_total',
      help: 'Requests answered by a fallback model alias.',
      labelNames: ['alias', 'fallback'],
      registers,
    });
    this.requestLogDropped = new Counter({
      name: 'stellwerk_request_log_dropped_total',
      help: 'Request log rows that could not be kept (the queue was full while the store was down).',
      registers,
    });
    this.requestLogCatchUp = new Counter({
      name: 'stellwerk_request_log_catch_up_rows_total',
      help: 'Request log rows written at normal priority because the background writer had fallen behind.',
      registers,
    });
    this.piiDetections = new Counter({
      name: 'stellwerk_pii_detections_total',
      help: 'Personal data found in requests by the privacy guard, by type and mode (values are never recorded).',
      labelNames: ['type', 'mode'],
      registers,
    });
    this.costUsd = new CounterFamily(
      this.registry,
      'stellwerk_cost_usd_total',
      'Cost of answered requests in USD (provider price or own-GPU hour cost), by model alias, deployment and team.',
      ['alias', 'deployment', 'team'],
    );
    this.energyWh = new CounterFamily(
      this.registry,
      'stellwerk_energy_wh_total',
      'Estimated facility energy of answered requests in Wh (docs/energy.md), by model alias, deployment and team.',
      ['alias', 'deployment', 'team'],
    );
    this.co2eGrams = new CounterFamily(
      this.registry,
      'stellwerk_co2e_grams_total',
      'Estimated emissions of answered requests in grams CO2e (docs/energy.md), by model alias, deployment and team.',
      ['alias', 'deployment', 'team'],
    );
    const queue = () => this.requestLogQueue();
    new Gauge({
      name: 'stellwerk_request_log_queue',
      help: 'Request log rows waiting to be written to the store.',
      registers,
      collect() {
        this.set(queue());
      },
    });
    const limits = () => this.limitCounts();
    new Counter({
      name: 'stellwerk_limit_admissions_total',
      help: 'Admissions decided by the rate limits and budgets, by where: memory (one instance), redis (shared, one by one), lease (from a block this replica leased from Redis).',
      labelNames: ['path'],
      registers,
      collect() {
        const counts = limits();
        this.reset();
        if (counts !== null) for (const path of ADMISSION_PATHS) this.inc({ path }, counts.admissions[path]);
      },
    });
    new Counter({
      name: 'stellwerk_limit_lease_calls_total',
      help: 'Calls to Redis that grant, give back or correct leased blocks of limits.',
      registers,
      collect() {
        this.reset();
        this.inc(limits()?.leaseCalls ?? 0);
      },
    });
    new Counter({
      name: 'stellwerk_limit_lease_blocks_total',
      help: 'Blocks of limits asked for by this replica: granted, or refused because the limit had too little room left.',
      labelNames: ['outcome'],
      registers,
      collect() {
        const counts = limits();
        this.reset();
        if (counts === null) return;
        this.inc({ outcome: 'granted' }, counts.blocksGranted);
        this.inc({ outcome: 'refused' }, counts.blocksRefused);
      },
    });
    const source = () => this.deploymentsSource();
    new Gauge({
      name: 'stellwerk_deployment_circuit_state',
      help: 'Circuit breaker state per deployment: 1 for the state it is in (closed, open, half-open).',
      labelNames: ['deployment', 'state'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const deployment of source()) {
          const current = deployment.circuitState(now);
          for (const state of ['closed', 'open', 'half-open']) this.set({ deployment: deployment.name, state }, state === current ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'stellwerk_deployment_in_flight',
      help: 'Requests in flight per deployment.',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const deployment of source()) this.set({ deployment: deployment.name }, deployment.inFlight());
      },
    });
    this.tokens = new CounterFamily(
      this.registry,
      'stellwerk_tokens_total',
      'Tokens used, by model alias, deployment and kind (prompt, completion).',
      ['alias', 'deployment', 'kind'],
    );
  }
}
