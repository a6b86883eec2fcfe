import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { parseTraceParent, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  RandomIdGenerator,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { SERVICE_ATTRIBUTE } from "../core/slo/conventions.js";

export interface ProxyTracing {
  /** Starts the request's span, continuing the caller's W3C trace when it sent a traceparent. */
  start(name: string, headers: Record<string, string | string[] | undefined>): TracedRequest;
  shutdown(): Promise<void>;
}

export interface TracedRequest {
  span: Span;
  traceId: string;
  spanId: string;
  /** The traceparent header to send upstream, so the server's own spans join the trace. */
  traceparent: string;
}

/**
 * OpenTelemetry tracing for the proxy: every request gets a span (so logs and exemplars always
 * carry a trace_id); spans are exported over OTLP/HTTP only when an endpoint is configured.
 */
export function createTracing(service: string, otlpEndpoint?: string, exporter?: SpanExporter): ProxyTracing {
  const exporters: SpanExporter[] = [];
  if (exporter) exporters.push(exporter);
  if (otlpEndpoint)
    exporters.push(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` }));
  if (exporters.length === 0) return idsOnlyTracing();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [SERVICE_ATTRIBUTE]: service }),
    spanProcessors: exporters.map((e) => new BatchSpanProcessor({ exporter: e, scheduledDelayMillis: 500 })),
  });
  const tracer = provider.getTracer("streamslo-proxy");
  const propagator = new W3CTraceContextPropagator();
  return {
    start(name, headers) {
      const parent = propagator.extract(context.active(), headers, defaultTextMapGetter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(parent, span), carrier, defaultTextMapSetter);
      const sc = span.spanContext();
      return { span, traceId: sc.traceId, spanId: sc.spanId, traceparent: carrier.traceparent ?? "" };
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Trace context without spans, for when nothing would export them: the ids and the traceparent
 * are all that logs, exemplars and the upstream see. The SDK's recording spans cost the proxy
 * about 0.09 ms per request (measured at one stream), spent on objects nobody reads.
 */
export function idsOnlyTracing(): ProxyTracing {
  // The SDK's own generator and parser, so both paths make and read ids alike.
  const ids = new RandomIdGenerator();
  return {
    start(_name, headers) {
      // Of repeated headers the first counts, as in W3CTraceContextPropagator.extract.
      const header = Array.isArray(headers.traceparent) ? headers.traceparent[0] : headers.traceparent;
      const parent = header === undefined ? null : parseTraceParent(header);
      const traceId = parent?.traceId ?? ids.generateTraceId();
      const spanId = ids.generateSpanId();
      // As the SDK's parent-based sampler decides: sampled unless the caller said otherwise.
      const traceFlags = parent ? parent.traceFlags & TraceFlags.SAMPLED : TraceFlags.SAMPLED;
      const span = trace.wrapSpanContext({ traceId, spanId, traceFlags });
      return { span, traceId, spanId, traceparent: `00-${traceId}-${spanId}-0${traceFlags}` };
    },
    shutdown: () => Promise.resolve(),
  };
}

export { SpanStatusCode };
