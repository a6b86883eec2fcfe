import { setTimeout as sleep } from "node:timers/promises";
import { type Endpoint, EndpointUrlError, resolveEndpoint } from "../client/endpoint.js";
import { discoverModels } from "../client/model-discovery.js";
import { type DoctorEvidence, formatCheck, requestsSeen, runDoctorChecks } from "../core/doctor/checks.js";
import {
  newTraceparent,
  readLogTail,
  requestSeriesByService,
  scrape,
  sendTestRequest,
} from "./doctor-evidence.js";
import { EndpointError, EXIT, UsageError } from "./exit-codes.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";

export interface DoctorFlags {
  url: string;
  metrics: string;
  logFile?: string;
  prometheus?: string;
  service: string;
  otlpListen?: { host: string; port: number };
  model?: string;
  apiKey?: string;
}

/** How long to wait for the proxy's batched span export (it flushes every 500 ms). */
const SPAN_WAIT_MS = 5000;
const LOG_WAIT_MS = 3000;
const PROMETHEUS_WAIT_MS = 5000;
/** The proxy counts a request when its stream ends, which can be a moment after the client saw [DONE]. */
const COUNT_WAIT_MS = 3000;

/** A scrape after the test request, retried briefly until the request counter passes `before`. */
async function scrapeAfter(url: string, before: Awaited<ReturnType<typeof scrape>>) {
  const deadline = Date.now() + COUNT_WAIT_MS;
  for (;;) {
    const now = await scrape(url, false);
    if (typeof now !== "string" || typeof before !== "string") return now;
    if (requestsSeen(now) > requestsSeen(before) || Date.now() > deadline) return now;
    await sleep(100);
  }
}

function httpUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${flag} "${value}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(`${flag} "${value}" is not http(s)`);
  return u.href;
}

/** The model to ask for: --model, else the first the proxy lists; unreachable is exit 3. */
async function chooseModel(endpoint: Endpoint, f: DoctorFlags, apiKey?: string): Promise<string | undefined> {
  if (f.model) return f.model;
  const found = await discoverModels(endpoint, apiKey, 5000);
  if (found.kind === "unreachable")
    throw new EndpointError(`cannot reach the proxy at ${endpoint.origin}: ${found.message}`);
  // No list: send no model; the test-request check reports what the upstream says.
  return found.kind === "ok" ? found.models[0] : undefined;
}

/**
 * Sends one traced request through the proxy and checks that its metrics, logs and traces line
 * up (service name, trace ids, exemplars). Exit 0 when every check passes, 1 when any fails.
 */
export async function doctorCommand(f: DoctorFlags): Promise<number> {
  let endpoint: Endpoint;
  try {
    endpoint = resolveEndpoint(f.url, "chat");
  } catch (err) {
    if (err instanceof EndpointUrlError) throw new UsageError(`--url ${err.message}`);
    throw err;
  }
  const metricsUrl = httpUrl("--metrics", f.metrics);
  const prometheus = f.prometheus === undefined ? undefined : httpUrl("--prometheus", f.prometheus);
  if (!f.service.trim()) throw new UsageError("--service must not be empty");
  const apiKey = f.apiKey || process.env.OPENAI_API_KEY || undefined;
  let receiver: OtlpReceiver | undefined;
  if (f.otlpListen) {
    const { host, port } = f.otlpListen;
    try {
      receiver = await startOtlpReceiver(host, port);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(
        `cannot listen on ${host}:${port} for OTLP (${e.code ?? e.message}); choose another --otlp-listen`,
      );
    }
  }
  try {
    const model = await chooseModel(endpoint, f, apiKey);
    const { traceId, traceparent } = newTraceparent();
    const metricsBefore = await scrape(metricsUrl, false);
    const request = await sendTestRequest(endpoint, model, traceparent, apiKey);
    const [logLines, waitedMs] = await Promise.all([
      f.logFile === undefined ? undefined : readLogTail(f.logFile, traceId, LOG_WAIT_MS),
      receiver?.waitForTrace(traceId, SPAN_WAIT_MS),
    ]);
    const metrics = await scrapeAfter(metricsUrl, metricsBefore);
    const openMetrics = await scrape(metricsUrl, true);
    const evidence: DoctorEvidence = {
      service: f.service,
      traceId,
      request,
      metricsUrl,
      metrics,
      metricsBefore,
      openMetrics,
      logLines,
      spans: receiver && { ...receiver.received, receiver: receiver.address, waitedMs: waitedMs ?? 0 },
      prometheus:
        prometheus === undefined
          ? undefined
          : await requestSeriesByService(prometheus, f.service, PROMETHEUS_WAIT_MS),
    };
    const checks = runDoctorChecks(evidence);
    const out = checks.map(formatCheck);
    if (f.logFile === undefined) out.push("SKIP logs: no --log-file (the file given to proxy --log-file)");
    if (!receiver) out.push("SKIP traces: no --otlp-listen (start the proxy with --otlp-endpoint at it)");
    if (prometheus === undefined) out.push("SKIP prometheus-series: no --prometheus");
    process.stdout.write(`${out.join("\n")}\n`);
    return checks.every((c) => c.pass) ? EXIT.ok : EXIT.failure;
  } finally {
    await receiver?.close();
  }
}
