import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { GatewayError } from '../core/errors.js';
import type { Deployment } from '../routing/deployment.js';
import type { RequestContext } from '../server/request-context.js';
import type { Logger } from './logger.js';
import { attemptEndAttributes, attemptStartAttributes, requestAttributes, spanName } from './trace-attributes.js';
import type { AttemptTrace, RequestTrace, Tracing, TracingSettings } from './tracing.js';

/** W3C Trace Context (`traceparent`, `tracestate`), the only propagation format spoken. */
const propagator = new W3CTraceContextPropagator();

/**
 * Tracing with the OpenTelemetry SDK: a tracer provider of its own (nothing registered
 * globally, so that two gateways in one process never share spans), a parent-based ratio
 * sampler (a client's sampled flag wins), and a batch processor exporting OTLP/HTTP JSON off
 * the request path.
 */
export class OtelTracing implements Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(settings: TracingSettings, logger: Logger) {
    const exporter = new OTLPTraceExporter({ url: settings.tracesUrl });
    const processor = new BatchSpanProcessor({
      export: (spans, done) =>
        exporter.export(spans, (result) => {
          // One line per failed batch: the collector's address, never a span's content.
          if (result.error !== undefined) logger.warn({ reason: result.error.message, spans: spans.length }, 'trace export failed');
          done(result);
        }),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush(),
    });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer('stellwerk');
  }

  startRequest(ctx: RequestContext): RequestTrace {
    const headers = ctx.req.headers;
    // An invalid traceparent is ignored by the propagator: the request then starts a new trace.
    const parent = headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(spanName(ctx.endpoint, '', ctx.req.method), { kind: SpanKind.SERVER }, parent);
    return new OtelRequestTrace(this.tracer, span);
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

class OtelRequestTrace implements RequestTrace {
  private readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  startAttempt(ctx: RequestContext, deployment: Deployment, number: number): AttemptTrace {
    const recording = this.span.isRecording();
    const span = this.tracer.startSpan(
      spanName(ctx.endpoint, deployment.upstreamModel, 'POST'),
      { kind: SpanKind.CLIENT, attributes: recording ? attemptStartAttributes(ctx, deployment, number) : {} },
      this.context,
    );
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return new OtelAttemptTrace(span, headers);
  }

  end(ctx: RequestContext): void {
    const span = this.span;
    if (span.isRecording()) {
      span.updateName(spanName(ctx.endpoint, ctx.model, ctx.req.method));
      span.setAttributes(requestAttributes(ctx));
      if (ctx.error !== null && ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error.code });
    }
    span.end();
  }
}

class OtelAttemptTrace implements AttemptTrace {
  constructor(
    private readonly span: Span,
    readonly headers: Readonly<Record<string, string>>,
  ) {}

  end(error: GatewayError | null, ctx: RequestContext): void {
    const span = this.span;
    if (span.isRecording()) {
      span.setAttributes(attemptEndAttributes(error, ctx));
      if (error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    }
    span.end();
  }
}
