import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
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

export { SpanStatusCode };
