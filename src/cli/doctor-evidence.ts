import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import type { Endpoint } from "../client/endpoint.js";
import { errorMessage, transportErrorCode } from "../client/transport-errors.js";
import type { Fetched, TestRequest } from "../core/doctor/checks.js";
import { redactSecret } from "../core/redact.js";
import { PROXY_METRICS, SERVICE_LABEL } from "../core/slo/conventions.js";
import { EndpointError } from "./exit-codes.js";

const PROMETHEUS_TEXT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
const OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

const why = (err: unknown) => `${transportErrorCode(err, false)} (${errorMessage(err)})`;

/** A fresh sampled W3C trace context: the doctor knows its request's trace id before the proxy does. */
export function newTraceparent(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}

/** One small streamed generation through the proxy; unreachable is an EndpointError (exit 3). */
export async function sendTestRequest(
  endpoint: Endpoint,
  model: string | undefined,
  traceparent: string,
  apiKey: string | undefined,
): Promise<TestRequest> {
  const prompt = "Say hello.";
  const body = {
    ...(model === undefined ? {} : { model }),
    ...(endpoint.api === "chat" ? { messages: [{ role: "user", content: prompt }] } : { prompt }),
    max_tokens: 8,
    stream: true,
  };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
    traceparent,
  };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const start = performance.now();
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${endpoint.origin}${endpoint.path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
  } catch (err) {
    throw new EndpointError(`cannot reach the proxy at ${endpoint.origin}: ${why(err)}`);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    text = `stream broke: ${errorMessage(err)}`;
  }
  const sse = String(res.headers["content-type"] ?? "").includes("text/event-stream");
  const streamed = sse && /^data: ?\[DONE\]/m.test(text);
  return {
    status: res.statusCode,
    streamed,
    ms: performance.now() - start,
    // The excerpt is printed: a server that echoes the key must not get it onto the terminal.
    body: streamed ? undefined : redactSecret(text, apiKey).slice(0, 200).replace(/\s+/g, " ").trim(),
  };
}

/** GETs the metrics with one Accept header. (A scrape also resets the proxy's peak gauge.) */
export async function scrape(url: string, openMetrics: boolean): Promise<Fetched<string>> {
  try {
    const res = await request(url, {
      headers: { accept: openMetrics ? OPENMETRICS : PROMETHEUS_TEXT },
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    const text = await res.body.text();
    return res.statusCode === 200 ? text : { error: `HTTP ${res.statusCode} from ${url}` };
  } catch (err) {
    return { error: why(err) };
  }
}

/** The last `maxLines` lines of a file, reading at most its last 256 KiB. */
async function tail(path: string, maxLines: number): Promise<string[]> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf.toString("utf8").split("\n");
    if (length < size) lines.shift(); // cut mid-line
    return lines.filter((l) => l.trim() !== "").slice(-maxLines);
  } finally {
    await fh.close();
  }
}

/** The log's last lines, once the test request's line is there (the proxy writes it after the body). */
export async function readLogTail(
  path: string,
  traceId: string,
  timeoutMs: number,
): Promise<Fetched<string[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lines: string[];
    try {
      lines = await tail(path, 200);
    } catch (err) {
      return { error: errorMessage(err) };
    }
    if (lines.some((l) => l.includes(traceId)) || Date.now() > deadline) return lines;
    await sleep(100);
  }
}

interface PromVector {
  status: string;
  error?: string;
  data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
}

/** count(streamslo_requests_total) by service, retried for a few seconds while `service` is missing. */
export async function requestSeriesByService(
  base: string,
  service: string,
  timeoutMs: number,
): Promise<Fetched<{ url: string; byService: Record<string, number> }>> {
  const query = `count by (${SERVICE_LABEL}) (${PROXY_METRICS.requests})`;
  const url = `${base.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let doc: PromVector;
    try {
      const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
      const text = await res.body.text();
      try {
        doc = JSON.parse(text) as PromVector;
      } catch {
        return { error: `HTTP ${res.statusCode} from ${url}, not the Prometheus API` };
      }
    } catch (err) {
      return { error: why(err) };
    }
    if (doc.status !== "success") return { error: doc.error ?? "query failed" };
    const byService = Object.create(null) as Record<string, number>; // label values are not keys to trust
    for (const r of doc.data?.result ?? []) byService[r.metric[SERVICE_LABEL] ?? ""] = Number(r.value[1]);
    if ((byService[service] ?? 0) > 0 || Date.now() > deadline) return { url: base, byService };
    await sleep(500);
  }
}
