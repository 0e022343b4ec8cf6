import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the metrics need to know of a deployment. */
export interface DeploymentView {
  readonly name: string;
  circuitState(now: number): string;
  inFlight(): number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Prometheus series, all prefixed `stellwerk_`. Labels are bounded by the config: an alias a
 * client invents is counted as "" so that no client can grow the series without end.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'endpoint' | 'alias' | 'deployment' | 'status'>;
  readonly duration: Histogram<'endpoint' | 'alias' | 'deployment'>;
  readonly timeToFirstToken: Histogram<'alias' | 'deployment'>;
  readonly upstreamErrors: Counter<'deployment' | 'code'>;
  readonly inFlight: Gauge<'endpoint'>;
  readonly tokens: Counter<'alias' | 'deployment' | 'kind'>;
  readonly attempts: Counter<'deployment' | 'outcome'>;
  readonly fallbacks: Counter<'alias' | 'fallback'>;
  readonly requestLogDropped: Counter;
  /** Accounting (src/accounting): USD, facility Wh and gCO₂e of answered requests. */
  readonly costUsd: Counter<'alias' | 'deployment' | 'team'>;
  readonly energyWh: Counter<'alias' | 'deployment' | 'team'>;
  readonly co2eGrams: Counter<'alias' | 'deployment' | 'team'>;
  readonly piiDetections: Counter<'type' | 'mode'>;
  /** Set by the governance: rows waiting for the request log. */
  requestLogQueue: () => number = () => 0;
  /** Set by the gateway: the deployments of the running config, for the state gauges. */
  deploymentsSource: () => Iterable<DeploymentView> = () => [];

  // Label lookups hash the label set on every call; the request path keeps its series instead.
  private readonly children = new Map<string, unknown>();

  private child<T>(key: string, make: () => T): T {
    let found = this.children.get(key) as T | undefined;
    if (found === undefined) {
      found = make();
      this.children.set(key, found);
    }
    return found;
  }

  requestSeries(endpoint: string, alias: string, deployment: string, status: number): Counter.Internal {
    return this.child(`r\u0000${endpoint}\u0000${alias}\u0000${deployment}\u0000${status}`, () =>
      this.requests.labels({ endpoint, alias, deployment, status }),
    );
  }

  durationSeries(endpoint: string, alias: string, deployment: string): Histogram.Internal<'endpoint' | 'alias' | 'deployment'> {
    return this.child(`d\u0000${endpoint}\u0000${alias}\u0000${deployment}`, () => this.duration.labels({ endpoint, alias, deployment }));
  }

  inFlightSeries(endpoint: string): Gauge.Internal<'endpoint'> {
    return this.child(`i\u0000${endpoint}`, () => this.inFlight.labels({ endpoint }));
  }

  ttftSeries(alias: string, deployment: string): Histogram.Internal<'alias' | 'deployment'> {
    return this.child(`t\u0000${alias}\u0000${deployment}`, () => this.timeToFirstToken.labels({ alias, deployment }));
  }

  /** Prompt and completion token counters of an alias and deployment. */
  tokenSeries(alias: string, deployment: string): { readonly prompt: Counter.Internal; readonly completion: Counter.Internal } {
    return this.child(`k\u0000${alias}\u0000${deployment}`, () => ({
      prompt: this.tokens.labels({ alias, deployment, kind: 'prompt' }),
      completion: this.tokens.labels({ alias, deployment, kind: 'completion' }),
    }));
  }

  /** The cost, energy and CO₂e counters of an alias, deployment and team. */
  accountingSeries(alias: string, deployment: string, team: string): { readonly cost: Counter.Internal; readonly energy: Counter.Internal; readonly co2e: Counter.Internal } {
    return this.child(`c\u0000${alias}\u0000${deployment}\u0000${team}`, () => {
      const labels = { alias, deployment, team };
      return { cost: this.costUsd.labels(labels), energy: this.energyWh.labels(labels), co2e: this.co2eGrams.labels(labels) };
    });
  }

  attemptSeries(deployment: string, outcome: string): Counter.Internal {
    return this.child(`a\u0000${deployment}\u0000${outcome}`, () => this.attempts.labels({ deployment, outcome }));
  }

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'stellwerk_process_' });
    this.requests = new Counter({
      name: 'stellwerk_requests_total',
      help: 'Requests answered, by endpoint, model alias, deployment and HTTP status (499: client left).',
      labelNames: ['endpoint', 'alias', 'deployment', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'stellwerk_request_duration_seconds',
      help: 'Time from receiving a request to the last byte of its answer.',
      labelNames: ['endpoint', 'alias', 'deployment'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'stellwerk_time_to_first_token_seconds',
      help: 'Time from receiving a streamed request to sending its first token to the client.',
      labelNames: ['alias', 'deployment'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'stellwerk_upstream_errors_total',
      help: 'Failed upstream calls, by deployment and error code.',
      labelNames: ['deployment', 'code'],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'stellwerk_in_flight_requests',
      help: 'Requests being answered right now.',
      labelNames: ['endpoint'],
      registers,
    });
    this.attempts = new Counter({
      name: 'stellwerk_upstream_attempts_total',
      help: 'Calls to upstream deployments (retries included), by deployment and outcome (ok or error code).',
      labelNames: ['deployment', 'outcome'],
      registers,
    });
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
    this.piiDetections = new Counter({
      name: 'stellwerk_pii_detections_total',
      help: 'Personal data found in requests by the privacy guard, by type and mode (values are never recorded).',
      labelNames: ['type', 'mode'],
      registers,
    });
    this.costUsd = new Counter({
      name: 'stellwerk_cost_usd_total',
      help: 'Cost of answered requests in USD (provider price or own-GPU hour cost), by model alias, deployment and team.',
      labelNames: ['alias', 'deployment', 'team'],
      registers,
    });
    this.energyWh = new Counter({
      name: 'stellwerk_energy_wh_total',
      help: 'Estimated facility energy of answered requests in Wh (docs/energy.md), by model alias, deployment and team.',
      labelNames: ['alias', 'deployment', 'team'],
      registers,
    });
    this.co2eGrams = new Counter({
      name: 'stellwerk_co2e_grams_total',
      help: 'Estimated emissions of answered requests in grams CO2e (docs/energy.md), by model alias, deployment and team.',
      labelNames: ['alias', 'deployment', 'team'],
      registers,
    });
    const queue = () => this.requestLogQueue();
    new Gauge({
      name: 'stellwerk_request_log_queue',
      help: 'Request log rows waiting to be written to the store.',
      registers,
      collect() {
        this.set(queue());
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
    this.tokens = new Counter({
      name: 'stellwerk_tokens_total',
      help: 'Tokens used, by model alias, deployment and kind (prompt, completion).',
      labelNames: ['alias', 'deployment', 'kind'],
      registers,
    });
  }
}
