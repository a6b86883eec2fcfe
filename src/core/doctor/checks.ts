import { parsePrometheusText } from "../prometheus-text.js";
import { PROXY_METRICS, SERVICE_ATTRIBUTE, SERVICE_LABEL } from "../slo/conventions.js";
import { field, type LogEntry, readLogLine } from "./log-lines.js";

/** One verdict of `streamslo doctor`; `fix` says what to change when it failed. */
export interface DoctorCheck {
  name: string;
  pass: boolean;
  detail: string;
  fix?: string;
}

/** Something the doctor fetched, or why it could not. */
export type Fetched<T> = T | { error: string };

/** The doctor's own streamed request through the proxy. */
export interface TestRequest {
  status: number;
  /** The body was an SSE stream that ended with [DONE]. */
  streamed: boolean;
  ms: number;
  /** The start of a non-2xx body, to show the upstream's complaint. */
  body?: string;
}

/** What the doctor's OTLP receiver got. */
export interface ExportedSpans {
  /** The resource service.name of each exported batch. */
  services: string[];
  traceIds: string[];
  /** host:port the receiver listened on, and how long it waited. */
  receiver: string;
  waitedMs: number;
}

export interface DoctorEvidence {
  /** The expected service name. */
  service: string;
  /** The trace the doctor's test request started (its traceparent). */
  traceId: string;
  request: TestRequest;
  metricsUrl: string;
  /** A scrape in the Prometheus text format, and one asking for OpenMetrics. */
  metrics: Fetched<string>;
  /** A Prometheus-text scrape taken just before the test request was sent. */
  metricsBefore: Fetched<string>;
  openMetrics: Fetched<string>;
  /** The log file's last lines; absent when no log file was given. */
  logLines?: Fetched<string[]>;
  /** Absent when no OTLP receiver ran. */
  spans?: ExportedSpans;
  /** count(streamslo_requests_total) by service, from Prometheus; absent when none was given. */
  prometheus?: Fetched<{ url: string; byService: Record<string, number> }>;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const ZERO_TRACE = "0".repeat(32);
const EXEMPLAR = /\s#\s*\{([^}]*)\}/;

const pass = (name: string, detail: string): DoctorCheck => ({ name, pass: true, detail });
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, pass: false, detail, fix });
const quoted = (values: Iterable<string>) => [...values].map((v) => `"${v}"`).join(", ");

function failed<T>(x: Fetched<T>): x is { error: string } {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "error" in x;
}

const scrapeFix = (url: string) =>
  `pass --metrics the proxy's admin listener (proxy --admin-listen) and path, e.g. http://127.0.0.1:9464/metrics; tried ${url}`;

function testRequest(r: TestRequest): DoctorCheck {
  const name = "test-request";
  if (r.status === 200 && r.streamed)
    return pass(name, `HTTP 200, streamed to [DONE] in ${Math.round(r.ms)} ms`);
  const what = r.status === 200 ? "HTTP 200 but not an SSE stream ending in [DONE]" : `HTTP ${r.status}`;
  return fail(
    name,
    `the test request got ${what}${r.body ? `: ${r.body}` : ""}`,
    "pass --url the proxy's address, and --model a model its upstream serves; ok requests carry exemplars",
  );
}

function metricsServiceLabel(e: DoctorEvidence): DoctorCheck {
  const name = "metrics-service-label";
  if (failed(e.metrics)) return fail(name, `cannot scrape: ${e.metrics.error}`, scrapeFix(e.metricsUrl));
  const ours = parsePrometheusText(e.metrics).samples.filter((s) => s.name.startsWith("streamslo_"));
  if (ours.length === 0) {
    return fail(
      name,
      "the scrape has no streamslo_* series",
      `point --metrics at the streamslo proxy's admin listener, not the model server; tried ${e.metricsUrl}`,
    );
  }
  const values = new Set(ours.flatMap((s) => s.labels[SERVICE_LABEL] ?? []));
  if (values.has(e.service)) {
    const n = ours.filter((s) => s.labels[SERVICE_LABEL] === e.service).length;
    return pass(name, `${SERVICE_LABEL}="${e.service}" on ${n} streamslo_* series`);
  }
  if (values.size > 0) {
    return fail(
      name,
      `the ${SERVICE_LABEL} label is ${quoted(values)}, expected "${e.service}"`,
      `start the proxy with --service ${e.service} (or run the doctor with --service ${[...values][0]})`,
    );
  }
  // The usual culprit: a collector that turned the resource attribute into service_name.
  const alike = new Set(
    ours.flatMap((s) =>
      Object.entries(s.labels)
        .filter(([k, v]) => k.includes("service") || v === e.service)
        .map(([k, v]) => `${k}="${v}"`),
    ),
  );
  return fail(
    name,
    `no "${SERVICE_LABEL}" label on the streamslo_* series${alike.size ? `; found ${[...alike].join(", ")}` : ""}`,
    `the rules and dashboards select on ${SERVICE_LABEL}="${e.service}": scrape the proxy's /metrics directly, or rename the label to ${SERVICE_LABEL} (metric_relabel_configs)`,
  );
}

/** The sum of every streamslo_requests_total sample in a scrape: how many requests the proxy has seen. */
export function requestsSeen(scrape: string): number {
  let n = 0;
  for (const s of parsePrometheusText(scrape).samples) if (s.name === PROXY_METRICS.requests) n += s.value;
  return n;
}

/** The test request must have moved this proxy's request counter, else --url bypasses the proxy. */
function requestThroughProxy(e: DoctorEvidence): DoctorCheck | undefined {
  const name = "request-through-proxy";
  // Without both scrapes, or with no streamslo series at all, metrics-service-label already says why.
  if (failed(e.metricsBefore) || failed(e.metrics)) return undefined;
  if (!parsePrometheusText(e.metrics).samples.some((s) => s.name.startsWith("streamslo_"))) return undefined;
  const added = requestsSeen(e.metrics) - requestsSeen(e.metricsBefore);
  if (added >= 1) return pass(name, `${PROXY_METRICS.requests} grew by ${added} with the test request`);
  return fail(
    name,
    `${PROXY_METRICS.requests} at ${e.metricsUrl} did not grow with the test request: it went around this proxy`,
    "pass --url the proxy's own address (proxy --listen), not the model server's, and --metrics the same proxy's admin listener",
  );
}

function exemplars(e: DoctorEvidence): DoctorCheck {
  const name = "exemplars";
  const om = e.openMetrics;
  if (failed(om)) return fail(name, `cannot scrape OpenMetrics: ${om.error}`, scrapeFix(e.metricsUrl));
  if (!/^# EOF\s*$/m.test(om)) {
    return fail(
      name,
      "asked for OpenMetrics, got the Prometheus text format (which cannot carry exemplars)",
      "serve OpenMetrics when the scraper asks for it, as the streamslo proxy does; something in between is downgrading the format",
    );
  }
  const traceIds: string[] = [];
  const otherLabels = new Set<string>();
  for (const line of om.split("\n")) {
    if (!line.startsWith("streamslo_")) continue;
    const set = EXEMPLAR.exec(line)?.[1];
    if (set === undefined) continue;
    const id = /(?:^|,)\s*trace_id="([^"]*)"/.exec(set)?.[1];
    if (id !== undefined && TRACE_ID.test(id)) traceIds.push(id);
    else for (const m of set.matchAll(/([a-zA-Z_]\w*)=/g)) otherLabels.add(m[1] ?? "");
  }
  if (traceIds.length > 0) {
    const own = traceIds.includes(e.traceId) ? ", one from the test request" : "";
    return pass(name, `${traceIds.length} trace_id exemplars on streamslo_* histograms${own}`);
  }
  if (otherLabels.size > 0) {
    return fail(
      name,
      `exemplars carry ${[...otherLabels].join(", ")}, not a 32-hex trace_id`,
      "name the exemplar label trace_id, holding the W3C trace id: Grafana links exemplars to traces by it",
    );
  }
  return fail(
    name,
    "no exemplars on the streamslo_* histograms",
    "exemplars come with ok streamed requests through the streamslo proxy (ttft, tpot, e2e); keep them in Prometheus with --enable-feature=exemplar-storage",
  );
}

interface LogLine extends LogEntry {
  raw: string;
}

function logChecks(lines: Fetched<string[]>, e: DoctorEvidence): DoctorCheck[] {
  const fileFix =
    "pass --log-file the file the proxy writes (proxy --log-file), after it has served requests";
  if (failed(lines)) return [fail("logs-json", `cannot read the log file: ${lines.error}`, fileFix)];
  const entries: LogLine[] = lines.filter((l) => l.trim()).map((raw) => ({ raw, ...readLogLine(raw) }));
  if (entries.length === 0) return [fail("logs-json", "the log file is empty", fileFix)];
  const n = entries.length;
  // Judge the test request's line when it is there, else the newest line.
  const own = entries.find((l) => l.raw.includes(e.traceId));
  const line = own ?? (entries[n - 1] as LogLine);
  const whose = own ? "the test request's line" : "the last line";
  return [
    logsJson(entries),
    logsServiceName(line, whose, e.service),
    logsTraceId(entries, line, whose),
    own
      ? pass("trace-in-logs", `trace ${e.traceId} of the test request is in the log`)
      : fail(
          "trace-in-logs",
          `trace ${e.traceId} of the test request is not in the last ${n} lines`,
          "make --log-file the file this proxy writes, and make sure nothing in front of the proxy drops the traceparent header",
        ),
  ];
}

function logsJson(entries: LogLine[]): DoctorCheck {
  const n = entries.length;
  const logfmt = entries.filter((l) => l.format === "logfmt").length;
  const other = entries.filter((l) => l.format === "text");
  if (logfmt === 0 && other.length === 0) return pass("logs-json", `the last ${n} lines are all JSON`);
  if (logfmt > 0) {
    return fail(
      "logs-json",
      `${logfmt} of the last ${n} lines are logfmt (key=value), not JSON`,
      "write one JSON object per line (the streamslo proxy does); if a shipper rewrites the lines, make it keep JSON so service.name and trace_id stay fields",
    );
  }
  return fail(
    "logs-json",
    `${other.length} of the last ${n} lines are not JSON, e.g. "${other[0]?.raw.slice(0, 60)}"`,
    "give the proxy a --log-file of its own: only its JSON request log should be in it",
  );
}

function logsServiceName(line: LogLine, whose: string, service: string): DoctorCheck {
  const name = "logs-service-name";
  const v = field(line.fields, SERVICE_ATTRIBUTE);
  if (v === service) return pass(name, `${SERVICE_ATTRIBUTE}="${service}" on ${whose}`);
  if (v !== undefined) {
    return fail(
      name,
      `${SERVICE_ATTRIBUTE} is "${String(v)}" on ${whose}, expected "${service}"`,
      `start the proxy with --service ${service}: it names the metrics, spans and logs alike`,
    );
  }
  const alt = ["service", "service_name", "serviceName", "app", "job"].find(
    (k) => typeof line.fields[k] === "string",
  );
  return fail(
    name,
    `no ${SERVICE_ATTRIBUTE} field on ${whose}${alt ? `; found ${alt}="${String(line.fields[alt])}"` : ""}`,
    `log the service as ${SERVICE_ATTRIBUTE} (the OpenTelemetry attribute) with the metrics' ${SERVICE_LABEL} value`,
  );
}

function logsTraceId(entries: LogLine[], line: LogLine, whose: string): DoctorCheck {
  const name = "logs-trace-id";
  const fix = "log the W3C trace id as trace_id (32 lowercase hex digits) so log lines link to traces";
  const valid = (v: unknown) => typeof v === "string" && TRACE_ID.test(v) && v !== ZERO_TRACE;
  const v = field(line.fields, "trace_id");
  if (valid(v)) {
    const n = entries.filter((l) => valid(field(l.fields, "trace_id"))).length;
    return pass(name, `trace_id on ${n} of the last ${entries.length} lines`);
  }
  if (v !== undefined) return fail(name, `trace_id "${String(v)}" on ${whose} is not a W3C trace id`, fix);
  const alt = ["traceId", "trace.id", "traceid", "trace", "dd.trace_id"].find(
    (k) => field(line.fields, k) !== undefined,
  );
  return fail(name, `no trace_id field on ${whose}${alt ? `; found ${alt}` : ""}`, fix);
}

function spanChecks(s: ExportedSpans, e: DoctorEvidence): DoctorCheck[] {
  if (s.services.length === 0 && s.traceIds.length === 0) {
    return [
      fail(
        "traces-service-name",
        `no spans arrived at ${s.receiver} within ${(s.waitedMs / 1000).toFixed(1)} s`,
        `start the proxy with --otlp-endpoint http://${s.receiver} (or OTEL_EXPORTER_OTLP_ENDPOINT) while the doctor runs`,
      ),
    ];
  }
  const services = new Set(s.services);
  const service = services.has(e.service)
    ? pass("traces-service-name", `resource ${SERVICE_ATTRIBUTE}="${e.service}"`)
    : fail(
        "traces-service-name",
        services.size
          ? `resource ${SERVICE_ATTRIBUTE} is ${quoted(services)}, expected "${e.service}"`
          : `the spans have no resource ${SERVICE_ATTRIBUTE}`,
        `start the proxy with --service ${e.service}: it names the metrics, spans and logs alike`,
      );
  const trace = s.traceIds.includes(e.traceId)
    ? pass("trace-in-spans", `the span of trace ${e.traceId} was exported`)
    : fail(
        "trace-in-spans",
        `${s.traceIds.length} spans arrived, none in trace ${e.traceId}`,
        "the proxy must continue the caller's W3C traceparent (and its sampled flag); check that nothing in front of it strips the header",
      );
  return [service, trace];
}

function prometheusSeries(p: NonNullable<DoctorEvidence["prometheus"]>, e: DoctorEvidence): DoctorCheck {
  const name = "prometheus-series";
  const query = `count(${PROXY_METRICS.requests}{${SERVICE_LABEL}="${e.service}"})`;
  if (failed(p)) {
    return fail(
      name,
      `cannot query Prometheus: ${p.error}`,
      "pass --prometheus its base URL, e.g. http://127.0.0.1:9090",
    );
  }
  const n = p.byService[e.service] ?? 0;
  if (n > 0) return pass(name, `${query} = ${n} at ${p.url}`);
  const others = Object.keys(p.byService).map((k) => (k === "" ? `(no ${SERVICE_LABEL} label)` : k));
  return fail(
    name,
    others.length
      ? `${query} is empty; Prometheus has ${PROXY_METRICS.requests} for ${others.join(", ")}`
      : `Prometheus at ${p.url} has no ${PROXY_METRICS.requests} series`,
    others.length
      ? `make the proxy's --service and the doctor's --service agree, and keep the ${SERVICE_LABEL} label in the scrape job (honor_labels: true if a target label clashes)`
      : `add a scrape job for ${e.metricsUrl} to prometheus.yml, reload, and wait one scrape interval`,
  );
}

/** Every check the evidence allows: metrics, the request's path and exemplars always; logs, traces, Prometheus when given. */
export function runDoctorChecks(e: DoctorEvidence): DoctorCheck[] {
  const checks = [testRequest(e.request), metricsServiceLabel(e)];
  const through = requestThroughProxy(e);
  if (through) checks.push(through);
  checks.push(exemplars(e));
  if (e.logLines) checks.push(...logChecks(e.logLines, e));
  if (e.spans) checks.push(...spanChecks(e.spans, e));
  if (e.prometheus) checks.push(prometheusSeries(e.prometheus, e));
  return checks;
}

/** `PASS name: detail` or `FAIL name: detail. fix: ...` */
export function formatCheck(c: DoctorCheck): string {
  return c.pass ? `PASS ${c.name}: ${c.detail}` : `FAIL ${c.name}: ${c.detail}. fix: ${c.fix ?? "-"}`;
}
