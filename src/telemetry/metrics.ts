import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    this.tokens = new Counter({
      name: 'stellwerk_tokens_total',
      help: 'Tokens used, by model alias, deployment and kind (prompt, completion).',
      labelNames: ['alias', 'deployment', 'kind'],
      registers,
    });
  }
}
