import { SERVICE_ATTRIBUTE } from "../slo/conventions.js";

/** The parts of an OTLP trace export the doctor checks. */
export interface SpanSummary {
  services: string[];
  traceIds: string[];
}

interface JsonExport {
  resourceSpans?: {
    resource?: { attributes?: { key?: string; value?: { stringValue?: unknown } }[] };
    scopeSpans?: { spans?: { traceId?: unknown }[] }[];
  }[];
}

/** OTLP/JSON ids are hex; a few old exporters sent base64. */
function jsonTraceId(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  if (/^[0-9a-fA-F]{32}$/.test(v)) return v.toLowerCase();
  const bytes = Buffer.from(v, "base64");
  return bytes.length === 16 ? bytes.toString("hex") : undefined;
}

/** ExportTraceServiceRequest in OTLP/JSON (what @opentelemetry/exporter-trace-otlp-http sends). */
export function summarizeJsonExport(body: string): SpanSummary {
  const doc = JSON.parse(body) as JsonExport;
  const out: SpanSummary = { services: [], traceIds: [] };
  for (const rs of doc.resourceSpans ?? []) {
    const attr = rs.resource?.attributes?.find((a) => a.key === SERVICE_ATTRIBUTE);
    if (typeof attr?.value?.stringValue === "string") out.services.push(attr.value.stringValue);
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? []) {
        const id = jsonTraceId(span.traceId);
        if (id) out.traceIds.push(id);
      }
  }
  return out;
}

/** Length-delimited fields (wire type 2) of one protobuf message, by field number; others skipped. */
function lengthFields(buf: Uint8Array): { no: number; bytes: Uint8Array }[] {
  const out: { no: number; bytes: Uint8Array }[] = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = buf[i++];
      if (b === undefined) throw new Error("truncated protobuf");
      v += (b & 0x7f) * shift;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error("truncated protobuf");
      out.push({ no: Math.floor(tag / 8), bytes: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const sub = (buf: Uint8Array, no: number) => lengthFields(buf).filter((f) => f.no === no);
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/**
 * ExportTraceServiceRequest in OTLP/protobuf (exporter-trace-otlp-proto, collectors): walks
 * resource_spans(1) -> resource(1) -> attributes(1) {key(1), value(2) -> string_value(1)} and
 * resource_spans(1) -> scope_spans(2) -> spans(2) -> trace_id(1).
 */
export function summarizeProtobufExport(body: Uint8Array): SpanSummary {
  const out: SpanSummary = { services: [], traceIds: [] };
  for (const rs of sub(body, 1)) {
    for (const resource of sub(rs.bytes, 1))
      for (const kv of sub(resource.bytes, 1)) {
        const key = sub(kv.bytes, 1)[0];
        const value = sub(kv.bytes, 2)[0];
        const str = value && sub(value.bytes, 1)[0];
        if (key && text(key.bytes) === SERVICE_ATTRIBUTE && str) out.services.push(text(str.bytes));
      }
    for (const ss of sub(rs.bytes, 2))
      for (const span of sub(ss.bytes, 2)) {
        const id = sub(span.bytes, 1)[0];
        if (id?.bytes.length === 16) out.traceIds.push(Buffer.from(id.bytes).toString("hex"));
      }
  }
  return out;
}
