import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Agent } from "undici";
import { type DoctorCheck, type DoctorEvidence, runDoctorChecks } from "../../src/core/doctor/checks.js";
import { summarizeJsonExport, summarizeProtobufExport } from "../../src/core/doctor/otlp-payload.js";
import { ProxyMetrics } from "../../src/proxy/proxy-metrics.js";
import { runCli, tempDir } from "../helpers/cli.js";
import { freePort } from "../helpers/prometheus-process.js";
import { startSimProxy, streamChat } from "../helpers/sim-proxy.js";

const SVC = "chat-api";
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c";

/** Scrapes of a real ProxyMetrics before and after it served one ok request of TRACE. */
async function scrapes(
  service: string,
): Promise<{ metrics: string; metricsBefore: string; openMetrics: string }> {
  const m = new ProxyMetrics(service);
  const labels = m.labels("m", "/v1/chat/completions");
  const metricsBefore = (await m.exposition("text/plain")).body;
  m.requests.inc({ ...labels, outcome: "ok", status: "200" });
  m.ttft.observe({ labels, value: 0.05, exemplarLabels: { trace_id: TRACE } });
  m.e2e.observe({ labels, value: 0.3, exemplarLabels: { trace_id: TRACE } });
  const metrics = (await m.exposition("text/plain")).body;
  const openMetrics = (await m.exposition("application/openmetrics-text; version=1.0.0")).body;
  return { metrics, metricsBefore, openMetrics };
}

const logLine = (service: string, traceId: string) =>
  JSON.stringify({
    time: "2026-01-01T00:00:00.000Z",
    "service.name": service,
    trace_id: traceId,
    outcome: "ok",
  });

async function good(service = SVC): Promise<DoctorEvidence> {
  return {
    service: SVC,
    traceId: TRACE,
    request: { status: 200, streamed: true, ms: 12 },
    metricsUrl: "http://127.0.0.1:9464/metrics",
    ...(await scrapes(service)),
    logLines: [logLine(service, OTHER_TRACE), logLine(service, TRACE)],
    spans: { services: [service], traceIds: [OTHER_TRACE, TRACE], receiver: "127.0.0.1:4318", waitedMs: 600 },
    prometheus: { url: "http://127.0.0.1:9090", byService: { [service]: 2 } },
  };
}

const byName = (checks: DoctorCheck[], name: string): DoctorCheck => {
  const c = checks.find((x) => x.name === name);
  assert.ok(c, `no check ${name} in ${checks.map((x) => x.name).join(", ")}`);
  return c;
};
const failing = (checks: DoctorCheck[]) => checks.filter((c) => !c.pass).map((c) => c.name);

describe("doctor checks", () => {
  it("a proxy set up right passes every check", async () => {
    const checks = runDoctorChecks(await good());
    assert.deepEqual(failing(checks), []);
    assert.deepEqual(
      checks.map((c) => c.name),
      [
        "test-request",
        "metrics-service-label",
        "request-through-proxy",
        "exemplars",
        "logs-json",
        "logs-service-name",
        "logs-trace-id",
        "trace-in-logs",
        "traces-service-name",
        "trace-in-spans",
        "prometheus-series",
      ],
    );
    assert.match(byName(checks, "exemplars").detail, /one from the test request/);
  });

  it("fails when the test request did not move the proxy's request counter", async () => {
    const e = await good();
    e.metricsBefore = e.metrics;
    const checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["request-through-proxy"]);
    assert.match(byName(checks, "request-through-proxy").detail, /did not grow .* went around this proxy/);
    assert.match(byName(checks, "request-through-proxy").fix ?? "", /--url the proxy's own address/);
  });

  it("names a service_name label where service is expected", async () => {
    const e = await good();
    e.metrics = (e.metrics as string).replace(/\bservice="/g, 'service_name="');
    const c = byName(runDoctorChecks(e), "metrics-service-label");
    assert.equal(c.pass, false);
    assert.match(c.detail, /no "service" label.*service_name="chat-api"/);
    assert.match(c.fix ?? "", /rename the label to service/);
  });

  it("fails logfmt logs but still reads their fields", async () => {
    const e = await good();
    e.logLines = [`time=2026-01-01T00:00:00Z service.name=${SVC} trace_id=${TRACE} msg="request done"`];
    const checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["logs-json"]);
    assert.match(byName(checks, "logs-json").detail, /1 of the last 1 lines are logfmt/);
  });

  it("fails when logs lack service.name or trace_id, naming what they carry instead", async () => {
    const e = await good();
    e.logLines = [JSON.stringify({ service_name: SVC, traceId: TRACE })];
    const checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["logs-service-name", "logs-trace-id"]);
    assert.match(byName(checks, "logs-service-name").detail, /found service_name="chat-api"/);
    assert.match(byName(checks, "logs-trace-id").detail, /found traceId/);
  });

  it("fails without exemplars, and when OpenMetrics was downgraded to Prometheus text", async () => {
    const e = await good();
    const om = e.openMetrics as string;
    e.openMetrics = om.replace(/ # \{[^}]*\}[^\n]*/g, "");
    let c = byName(runDoctorChecks(e), "exemplars");
    assert.equal(c.pass, false);
    assert.match(c.detail, /no exemplars/);
    e.openMetrics = e.metrics;
    c = byName(runDoctorChecks(e), "exemplars");
    assert.match(c.detail, /got the Prometheus text format/);
  });

  it("names both values when the proxy runs under another service name", async () => {
    const checks = runDoctorChecks(await good("billing"));
    assert.deepEqual(failing(checks), [
      "metrics-service-label",
      "logs-service-name",
      "traces-service-name",
      "prometheus-series",
    ]);
    for (const name of failing(checks)) {
      const c = byName(checks, name);
      assert.match(c.detail, /"?billing"?/, name);
      assert.ok(c.fix, name);
    }
    assert.match(byName(checks, "metrics-service-label").detail, /is "billing", expected "chat-api"/);
    assert.match(byName(checks, "metrics-service-label").fix ?? "", /--service chat-api/);
  });

  it("says where to point the proxy when no span arrived, and what to fix when the trace is missing", async () => {
    const e = await good();
    e.spans = { services: [], traceIds: [], receiver: "127.0.0.1:4318", waitedMs: 5000 };
    let checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["traces-service-name"]);
    assert.match(
      byName(checks, "traces-service-name").fix ?? "",
      /--otlp-endpoint http:\/\/127\.0\.0\.1:4318/,
    );
    e.spans = { services: [SVC], traceIds: [OTHER_TRACE], receiver: "127.0.0.1:4318", waitedMs: 5000 };
    e.logLines = [logLine(SVC, OTHER_TRACE)];
    checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["trace-in-logs", "trace-in-spans"]);
  });

  it("reports a failed test request, an unreadable scrape and an empty Prometheus", async () => {
    const e = await good();
    e.request = { status: 404, streamed: false, ms: 3, body: "model not found" };
    e.metrics = { error: "connect_refused (ECONNREFUSED)" };
    e.prometheus = { url: "http://127.0.0.1:9090", byService: {} };
    const checks = runDoctorChecks(e);
    assert.deepEqual(failing(checks), ["test-request", "metrics-service-label", "prometheus-series"]);
    assert.match(byName(checks, "test-request").detail, /HTTP 404: model not found/);
    assert.match(
      byName(checks, "prometheus-series").fix ?? "",
      /scrape job for http:\/\/127\.0\.0\.1:9464\/metrics/,
    );
  });
});

/** Protobuf length-delimited field: tag, length, bytes (all lengths here fit one varint byte). */
const ld = (no: number, ...parts: Uint8Array[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([(no << 3) | 2, body.length]), body]);
};

describe("OTLP export payloads", () => {
  it("reads service.name and trace ids from OTLP/JSON and OTLP/protobuf", () => {
    const json = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: SVC } }] },
          scopeSpans: [{ spans: [{ traceId: TRACE, spanId: "00f067aa0ba902b7" }] }],
        },
      ],
    });
    assert.deepEqual(summarizeJsonExport(json), { services: [SVC], traceIds: [TRACE] });

    const kv = ld(1, ld(1, Buffer.from("service.name")), ld(2, ld(1, Buffer.from(SVC))));
    const span = Buffer.concat([ld(1, Buffer.from(TRACE, "hex")), Buffer.from([0x28, 0x02])]); // + kind=2 (varint)
    const proto = ld(1, ld(1, kv), ld(2, ld(2, span)));
    assert.deepEqual(summarizeProtobufExport(proto), { services: [SVC], traceIds: [TRACE] });
    assert.throws(() => summarizeProtobufExport(proto.subarray(0, proto.length - 3)), /truncated/);
  });
});

describe("streamslo doctor end to end", () => {
  async function doctorAgainst(proxyService: string) {
    const dir = tempDir();
    const logFile = join(dir, "proxy.log");
    const otlpPort = await freePort();
    const stack = await startSimProxy({
      service: proxyService,
      logFile,
      otlpEndpoint: `http://127.0.0.1:${otlpPort}`,
    });
    try {
      return await runCli([
        "doctor",
        "--url",
        `${stack.url}/v1`,
        "--metrics",
        `${stack.adminUrl}/metrics`,
        "--log-file",
        logFile,
        "--service",
        SVC,
        "--otlp-listen",
        `127.0.0.1:${otlpPort}`,
      ]);
    } finally {
      await stack.close();
    }
  }

  it("passes every check against a proxy set up with the same service, logs and traces", async () => {
    const r = await doctorAgainst(SVC);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n");
    const checked = lines.filter((l) => !l.startsWith("SKIP"));
    assert.equal(checked.length, 10, r.stdout);
    assert.match(r.stdout, /^PASS request-through-proxy: streamslo_requests_total grew by 1 /m);
    for (const l of checked) assert.match(l, /^PASS [a-z-]+: /);
    assert.match(r.stdout, /^PASS traces-service-name: resource service\.name="chat-api"$/m);
    assert.match(r.stdout, /^PASS trace-in-spans: /m);
    assert.match(r.stdout, /^SKIP prometheus-series/m);
  });

  it("exits 1 naming the mismatch when the proxy runs under another service name", async () => {
    const r = await doctorAgainst("other-svc");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^FAIL metrics-service-label: the service label is "other-svc", expected "chat-api"\. fix: start the proxy with --service chat-api/m,
    );
    assert.match(r.stdout, /^FAIL logs-service-name: service\.name is "other-svc"/m);
    assert.match(r.stdout, /^FAIL traces-service-name: resource service\.name is "other-svc"/m);
    assert.match(r.stdout, /^PASS trace-in-spans: /m);
  });

  it("exits 1 when --url goes to the model server itself, around the proxy", async () => {
    const stack = await startSimProxy({ service: SVC });
    const agent = new Agent();
    try {
      // Earlier traffic through the proxy: its metrics and exemplars look right on their own.
      assert.equal(await streamChat(stack.url, { maxTokens: 4 }, agent), 200);
      const r = await runCli([
        "doctor",
        "--url",
        `${stack.sim.origin}/v1`,
        "--metrics",
        `${stack.adminUrl}/metrics`,
        "--service",
        SVC,
      ]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^PASS test-request: /m);
      assert.match(r.stdout, /^PASS exemplars: /m);
      assert.match(r.stdout, /^FAIL request-through-proxy: streamslo_requests_total at .* did not grow/m);
    } finally {
      await agent.close();
      await stack.close();
    }
  });

  it("exits 3 when the proxy is unreachable, 2 on a bad flag", async () => {
    const port = await freePort();
    const down = await runCli([
      "doctor",
      "--url",
      `http://127.0.0.1:${port}/v1`,
      "--metrics",
      `http://127.0.0.1:${port}/metrics`,
    ]);
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, /cannot reach the proxy at http:\/\/127\.0\.0\.1:\d+: connect_refused/);
    const bad = await runCli(["doctor", "--url", "ftp://x", "--metrics", "http://127.0.0.1:1/metrics"]);
    assert.equal(bad.code, 2, bad.stderr);
  });
});
