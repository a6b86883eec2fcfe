import { randomFillSync } from "node:crypto";
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isValidSpanId,
  isValidTraceId,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
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
  const ids = new RandomIds();
  return {
    start(_name, headers) {
      const parent = parseTraceparent(headers.traceparent);
      const traceId = parent?.traceId ?? ids.draw(16, isValidTraceId);
      const spanId = ids.draw(8, isValidSpanId);
      // As the SDK's parent-based sampler decides: sampled unless the caller said otherwise.
      const traceFlags = parent ? parent.traceFlags & TraceFlags.SAMPLED : TraceFlags.SAMPLED;
      const span = trace.wrapSpanContext({ traceId, spanId, traceFlags });
      return { span, traceId, spanId, traceparent: `00-${traceId}-${spanId}-0${traceFlags}` };
    },
    shutdown: () => Promise.resolve(),
  };
}

/**
 * The caller's trace from a W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header):
 * version-traceid-parentid-flags in lowercase hex; version ff is invalid, version 00 has exactly
 * these four fields, a later version may add more after them; one space either side is let pass, as
 * OpenTelemetry's propagator does. Undefined: start a new trace.
 */
export function parseTraceparent(
  value: string | string[] | undefined,
): { traceId: string; traceFlags: number } | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^\s?([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\s?$/.exec(value);
  if (!m || m[1] === "ff" || (m[1] === "00" && m[5] !== undefined)) return undefined;
  const [traceId, parentId] = [m[2] as string, m[3] as string];
  if (!isValidTraceId(traceId) || !isValidSpanId(parentId)) return undefined;
  return { traceId, traceFlags: Number.parseInt(m[4] as string, 16) };
}

/** Random ids from a block of secure random bytes, refilled when used up. */
class RandomIds {
  private readonly block = Buffer.alloc(4096);
  private at = this.block.length;

  /** `bytes` random bytes in hex; drawn again in the (vanishingly rare) case `valid` refuses them (all zeros). */
  draw(bytes: number, valid: (id: string) => boolean): string {
    if (this.at + bytes > this.block.length) {
      randomFillSync(this.block);
      this.at = 0;
    }
    const id = this.block.toString("hex", this.at, this.at + bytes);
    this.at += bytes;
    return valid(id) ? id : this.draw(bytes, valid);
  }
}

export { SpanStatusCode };
