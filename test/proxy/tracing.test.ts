import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { context, defaultTextMapGetter, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { idsOnlyTracing } from "../../src/proxy/tracing.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

/** What OpenTelemetry's own W3C propagator makes of a traceparent: the reference. */
function otelReads(value: string | string[]): { traceId: string; traceFlags: number } | undefined {
  const ctx = new W3CTraceContextPropagator().extract(
    context.active(),
    { traceparent: value },
    defaultTextMapGetter,
  );
  const sc = trace.getSpanContext(ctx);
  return sc ? { traceId: sc.traceId, traceFlags: sc.traceFlags } : undefined;
}

describe("trace context without the SDK", () => {
  it("continues exactly the traces OpenTelemetry's propagator reads, and starts a new one otherwise", () => {
    const other = "0af7651916cd43dd8448eb211c80319c";
    const cases: (string | string[])[] = [
      `00-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-00`,
      ` 00-${TRACE}-${PARENT}-01 `,
      `  00-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-03`,
      `01-${TRACE}-${PARENT}-01-future`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `ff-${TRACE}-${PARENT}-01`,
      `00-${"0".repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${TRACE.slice(1)}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}`,
      "garbage",
      "",
      [`00-${TRACE}-${PARENT}-00`, `00-${other}-${PARENT}-01`],
      [`garbage`, `00-${other}-${PARENT}-01`],
    ];
    const t = idsOnlyTracing();
    let continued = 0;
    for (const c of cases) {
      const got = t.start("POST /v1/chat/completions", { traceparent: c });
      const ref = otelReads(c);
      const flags = Number.parseInt(got.traceparent.slice(-2), 16);
      if (ref) {
        continued++;
        assert.equal(got.traceId, ref.traceId, JSON.stringify(c));
        assert.equal(flags, ref.traceFlags & 1, JSON.stringify(c));
      } else {
        assert.ok(got.traceId !== TRACE && got.traceId !== other, `a new trace for ${JSON.stringify(c)}`);
        assert.equal(flags, 1, JSON.stringify(c));
      }
    }
    assert.equal(continued, 6, "the cases the propagator reads");
    assert.notEqual(t.start("GET /v1/models", {}).traceId, TRACE);
  });

  it("continues the caller's trace with a new span, and starts a sampled trace otherwise", () => {
    const t = idsOnlyTracing();
    const cont = t.start("POST /v1/chat/completions", { traceparent: `00-${TRACE}-${PARENT}-00` });
    assert.equal(cont.traceId, TRACE);
    assert.match(cont.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(cont.spanId, PARENT);
    assert.equal(cont.traceparent, `00-${TRACE}-${cont.spanId}-00`, "an unsampled caller stays unsampled");
    assert.equal(cont.span.spanContext().spanId, cont.spanId);
    const other = t.start("POST /v1/chat/completions", { traceparent: `00-${TRACE}-${PARENT}-03` });
    assert.equal(other.traceparent, `00-${TRACE}-${other.spanId}-01`, "only the sampled flag goes on");
    cont.span.setAttribute("streamslo.outcome", "ok");
    cont.span.end();

    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const fresh = t.start("GET /v1/models", {});
      assert.match(fresh.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.equal(fresh.traceparent, `00-${fresh.traceId}-${fresh.spanId}-01`);
      assert.ok(!seen.has(fresh.traceId), "trace ids do not repeat");
      seen.add(fresh.traceId);
    }
  });
});
