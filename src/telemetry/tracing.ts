import type { TelemetryConfig } from '../config/schema.js';
import type { GatewayError } from '../core/errors.js';
import type { Deployment } from '../routing/deployment.js';
import type { RequestContext } from '../server/request-context.js';
import type { Logger } from './logger.js';

/**
 * Distributed tracing of requests (docs/observability.md): one server span per request, one
 * client span per upstream attempt, exported over OTLP/HTTP. This module is all the gateway
 * knows of it; the OpenTelemetry SDK lives in otel-tracing.ts and is imported only when tracing
 * is configured, so that a gateway without tracing loads no SDK and makes no span objects: the
 * request path pays one null check (`ctx.trace`).
 */
export interface Tracing {
  /** Starts the request's span; a client's valid `traceparent` (and `tracestate`) makes it a child. */
  startRequest(ctx: RequestContext): RequestTrace;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops; spans ended afterwards are dropped. */
  shutdown(): Promise<void>;
}

/** The span of one request, from its arrival to its last byte. */
export interface RequestTrace {
  /** Starts the span of one upstream attempt (`number` counts from 1), a child of the request's. */
  startAttempt(ctx: RequestContext, deployment: Deployment, number: number): AttemptTrace;
  /** Sets the request's attributes from what its stages learned and ends the span. */
  end(ctx: RequestContext): void;
}

/** The span of one upstream attempt. */
export interface AttemptTrace {
  /** The headers that carry this attempt's trace context upstream (`traceparent`, maybe `tracestate`). */
  readonly headers: Readonly<Record<string, string>>;
  end(error: GatewayError | null, ctx: RequestContext): void;
}

export interface TracingSettings {
  /** The full OTLP/HTTP traces URL (…/v1/traces). */
  readonly tracesUrl: string;
  readonly serviceName: string;
  readonly sampleRatio: number;
}

/**
 * Whether and where to trace: the config's `telemetry.otlp_endpoint`, else the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT; null when neither is set (tracing off).
 */
export function tracingSettings(config: TelemetryConfig, env: NodeJS.ProcessEnv = process.env): TracingSettings | null {
  const fromEnv = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = config.otlp_endpoint ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
  if (endpoint === undefined) return null;
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  const serviceName = config.service_name ?? (env.OTEL_SERVICE_NAME?.trim() || 'stellwerk');
  return { tracesUrl: url.toString(), serviceName, sampleRatio: config.sample_ratio };
}

/** Loads the SDK and starts exporting, when configured; null (and nothing loaded) when not. */
export async function openTracing(config: TelemetryConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  let settings: TracingSettings | null;
  try {
    settings = tracingSettings(config, env);
  } catch {
    throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT is not a URL');
  }
  if (settings === null) return null;
  const { OtelTracing } = await import('./otel-tracing.js');
  const tracing = new OtelTracing(settings, logger);
  // The URL names a collector, not a secret; credentials belong in OTEL_EXPORTER_OTLP_HEADERS.
  logger.info({ traces_url: redactUserInfo(settings.tracesUrl), service_name: settings.serviceName, sample_ratio: settings.sampleRatio }, 'tracing on');
  return tracing;
}

function redactUserInfo(url: string): string {
  const parsed = new URL(url);
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '***';
    parsed.password = '';
  }
  return parsed.toString();
}
