import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, type Dispatcher } from "undici";
import { type BodyDecoder, decoderFor } from "../client/body-decoder.js";
import { Clock } from "../client/clock.js";
import { type GenerationDispatcher, originPool } from "../client/dispatcher.js";
import { Http1Pool } from "../client/http1-pool.js";
import { transportErrorCode } from "../client/transport-errors.js";
import { classifyStream, isClientFault, verdictFor } from "../core/outcome.js";
import type { ErrorCode, RequestRecord } from "../core/record.js";
import { redactSummary } from "../core/redact.js";
import { requestMetrics } from "../core/request-metrics.js";
import { requestModel } from "../core/request-model.js";
import { judgeRequest } from "../core/request-slo.js";
import type { PROXY_OUTCOMES } from "../core/slo/conventions.js";
import { LiveBurn } from "../core/slo/live-burn.js";
import { computableOffline, recordEvents } from "../core/slo/sli-events.js";
import type { RequestCriteria, SloSpec } from "../core/slo-spec.js";
import { StreamAccumulator, summarizeCompletion } from "../core/stream-accumulator.js";
import { isLlmRoute, LLM_ROUTES, ModelLabels, routeLabel } from "./model-labels.js";
import { prefixHashes } from "./prefix-hashes.js";
import { ProxyMetrics } from "./proxy-metrics.js";
import { RequestLog } from "./request-log.js";
import { createTracing, type ProxyTracing, SpanStatusCode, type TracedRequest } from "./tracing.js";

export interface ProxyOptions {
  upstream: string;
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  service: string;
  models?: string[];
  maxStreams: number;
  /** Time to upstream response headers, and the longest silence mid-body, ms. */
  upstreamTimeoutMs: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  slo?: SloSpec;
  logFile?: string;
  /** Log each generation request's prompt as salted block hashes (`hash_ids`), for replays with its prefixes. */
  logPrefixHashes?: boolean;
  otlpEndpoint?: string;
  /** Extra span exporter (tests). */
  tracing?: ProxyTracing;
  drainMs: number;
}

export type ProxyOutcome = (typeof PROXY_OUTCOMES)[number];

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/** The credentials a client sent: upstream text that echoes them must not reach logs or spans. */
function credentials(h: IncomingHttpHeaders): string[] {
  const auth = typeof h.authorization === "string" ? h.authorization : "";
  const token = auth.slice(auth.indexOf(" ") + 1).trim();
  return [token, h["x-api-key"], h["api-key"]].filter((v): v is string => typeof v === "string" && v !== "");
}

function forwardHeaders(h: IncomingHttpHeaders, traceparent: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined && !HOP_BY_HOP.has(k) && k !== "traceparent") out[k] = v;
  if (traceparent) out.traceparent = traceparent;
  return out;
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message, type: "proxy_error", code: status } });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Over the limit: drop the rest as it comes; destroying the request would cut the socket and lose the 413.
      if (size > limit) reject(new BodyTooLarge());
      else parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * A reverse proxy for OpenAI-compatible endpoints that measures every request the way streamslo
 * bench does: each upstream body buffer is written to the client unchanged and as it arrives, and
 * fed to the same StreamAccumulator, so TTFT, ITL and E2E are timed to the body's last byte.
 * Slow clients pause the upstream (backpressure) instead of growing buffers.
 */
export class StreamsloProxy {
  readonly metrics: ProxyMetrics;
  private readonly clock = new Clock();
  /** Generation requests, where the proxy spends its time: streamslo's lean pool for http. */
  private readonly generations: GenerationDispatcher;
  /** The pool lends its chunks (views into its read buffer): handlers keep copies. */
  private readonly lends: boolean;
  /** Streams whose end is relayed but not yet recorded; see recordEnd. */
  private readonly ended: ForwardHandler[] = [];
  private endsScheduled = false;
  /** Every other route (models, health, HEAD, anything): undici, which speaks all of HTTP. */
  private readonly agent: Agent;
  private readonly models: ModelLabels;
  private readonly log: RequestLog;
  private readonly tracing: ProxyTracing;
  private readonly upstream: URL;
  private server?: Server;
  private admin?: Server;
  private refreshTimer?: NodeJS.Timeout;
  private draining = false;
  private inFlightAll = 0;
  /** This process's secret for prefix hashes: ids match within one log, and say nothing of the text. */
  private readonly salt = randomBytes(16).toString("hex");
  /** Requests being relayed, so the drain deadline can cut them as the proxy's own doing. */
  private readonly relaying = new Set<ForwardHandler>();

  private readonly liveBurn?: LiveBurn;
  private readonly criteria: RequestCriteria;

  constructor(readonly o: ProxyOptions) {
    this.upstream = new URL(o.upstream);
    this.criteria = o.slo?.request ?? {};
    const criterionNames = Object.entries(this.criteria)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k.replace(/Ms$/, ""));
    this.metrics = new ProxyMetrics(o.service, ["all", ...criterionNames]);
    // One origin, whose redirects go to the client as they came: no pools for others.
    this.generations = originPool(this.upstream.origin);
    this.lends = this.generations instanceof Http1Pool;
    this.agent = new Agent({ connections: null, keepAliveTimeout: 30_000 });
    this.models = new ModelLabels(o.models, this.upstream.origin, (model) =>
      this.metrics.prime(model, LLM_ROUTES),
    );
    this.log = new RequestLog(o.logFile);
    this.tracing = o.tracing ?? createTracing(o.service, o.otlpEndpoint);
    const production = o.slo?.production;
    const slos = production?.slos.filter(computableOffline) ?? [];
    if (production && slos.length > 0) {
      this.liveBurn = new LiveBurn(slos, production.periodMs);
      this.metrics.exportLiveBurn(this.liveBurn, () => this.clock.now());
    }
  }

  async start(): Promise<{ url: string; adminUrl: string }> {
    await this.models.refresh(); // primes each model it learns
    for (const model of [...(this.o.models ?? []), "other"]) this.metrics.prime(model, LLM_ROUTES);
    this.refreshTimer = setInterval(() => void this.models.refresh(), 60_000);
    this.refreshTimer.unref();
    this.server = createServer({ maxHeaderSize: this.o.maxHeaderBytes }, (req, res) => this.handle(req, res));
    this.server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
      const status =
        e.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
      else socket.destroy();
    });
    this.admin = createServer((req, res) => void this.handleAdmin(req, res));
    const listen = (s: Server, host: string, port: number) =>
      new Promise<string>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => {
          const a = s.address() as AddressInfo;
          resolve(`http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    const url = await listen(this.server, this.o.host, this.o.port);
    const adminUrl = await listen(this.admin, this.o.adminHost, this.o.adminPort);
    return { url, adminUrl };
  }

  /** Stops accepting, lets in-flight streams finish (up to drainMs), then closes everything. */
  async stop(): Promise<void> {
    this.draining = true;
    clearInterval(this.refreshTimer);
    const closed = new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    const deadline = Date.now() + this.o.drainMs;
    while (this.inFlightAll > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // What is still relayed at the deadline is cut by the proxy (a rolling deploy's cut): a drop, not a client's leaving.
    for (const h of this.relaying) h.cutByDrain();
    this.server?.closeAllConnections();
    await closed;
    await new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()));
    this.admin?.closeAllConnections();
    await Promise.all([this.agent.close(), this.generations.close()]).catch(() => undefined);
    await this.tracing.shutdown().catch(() => undefined);
    await this.log.close();
  }

  private async handleAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      const m = await this.metrics.exposition(req.headers.accept);
      res.writeHead(200, { "content-type": m.contentType }).end(m.body);
    } else if (path === "/healthz") {
      res.writeHead(this.draining ? 503 : 200).end(this.draining ? "draining" : "ok");
    } else {
      res.writeHead(404).end("not found: try /metrics or /healthz");
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.forward(req, res).catch((err: unknown) =>
      sendError(res, 502, `proxy error: ${(err as Error).message}`),
    );
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] as string;
    const llm = isLlmRoute(req.method, path);
    if (this.draining) {
      this.refused(req, path, llm, 503, "rejected", undefined);
      return sendError(res, 503, "proxy is shutting down", { "retry-after": "1", connection: "close" });
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.o.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) {
        // The client hung up before its body ended: nobody to answer.
        this.refused(req, path, llm, 0, "client_disconnect", undefined);
        return;
      }
      this.refused(req, path, llm, 413, "client_error", undefined);
      return sendError(res, 413, `request body over ${this.o.maxBodyBytes} bytes`, { connection: "close" });
    }
    // Checked after the body, in the same synchronous stretch as streamStarted() below: checked
    // before it, requests with slow bodies all passed while none had started yet.
    if (llm && this.metrics.inFlight >= this.o.maxStreams) {
      this.refused(req, path, llm, 429, "rejected", body);
      return sendError(res, 429, `more than ${this.o.maxStreams} streams in flight`, { "retry-after": "1" });
    }
    // Labels are needed only once the response is over: the body is read for its model then,
    // not on the way to the upstream.
    const labels = () =>
      this.metrics.labels(llm ? this.models.label(requestModel(body)) : "none", routeLabel(path));
    const traced = this.tracing.start(`${req.method} ${routeLabel(path)}`, req.headers);
    this.inFlightAll++;
    if (llm) this.metrics.streamStarted();
    const startMs = this.clock.now();
    try {
      await new Promise<void>((resolve) => {
        const lent = llm && this.lends;
        const hashes = llm && this.o.logPrefixHashes ? () => prefixHashes(body, this.salt) : undefined;
        const handler = new ForwardHandler(this, req, res, llm, lent, startMs, labels, traced, hashes, () => {
          this.relaying.delete(handler);
          resolve();
        });
        this.relaying.add(handler);
        (llm ? this.generations : this.agent).dispatch(
          {
            origin: this.upstream.origin,
            path: req.url ?? "/",
            method: (req.method ?? "GET") as Dispatcher.HttpMethod,
            headers: forwardHeaders(req.headers, traced.traceparent),
            body: body.length > 0 ? body : undefined,
            headersTimeout: this.o.upstreamTimeoutMs,
            bodyTimeout: this.o.upstreamTimeoutMs,
          },
          handler,
        );
      });
    } finally {
      this.inFlightAll--;
      if (llm) this.metrics.streamEnded();
    }
  }

  /**
   * Counts and logs a request the proxy answered itself without asking the upstream: shed by
   * --max-streams or the drain (rejected: what users see of the service), too big (client_error), or
   * cut off by its client before the body ended (client_disconnect).
   */
  private refused(
    req: IncomingMessage,
    path: string,
    llm: boolean,
    status: number,
    outcome: "rejected" | "client_error" | "client_disconnect",
    body: Buffer | undefined,
  ): void {
    const now = this.clock.now();
    const labels = this.metrics.labels(
      llm ? this.models.label(body ? requestModel(body) : undefined) : "none",
      routeLabel(path),
    );
    const message =
      outcome === "client_disconnect"
        ? "the client hung up before its request body ended"
        : `answered ${status} by the proxy (${outcome})`;
    // A span of its own, so the log line, the trace and the caller's traceparent still meet.
    const traced = this.tracing.start(`${req.method} ${labels.route}`, req.headers);
    traced.span.setAttribute("http.response.status_code", status);
    traced.span.setAttribute("streamslo.outcome", outcome);
    if (outcome !== "client_error") traced.span.setStatus({ code: SpanStatusCode.ERROR, message });
    traced.span.end();
    if (llm) {
      this.metrics.requests.inc({ ...labels, outcome, status: String(status) });
      const rec: RequestRecord = {
        id: "refused",
        scenario: "proxy",
        phase: "measure",
        intendedStartMs: now,
        startMs: now,
        endMs: now,
        status,
        chunkTimesMs: [],
        chunkTokens: [],
        tokenSource: "chunks",
        outcome: "error",
        error: { code: `http_${status}`, message },
      };
      this.countSlo(rec, outcome, labels);
    }
    this.log.write({
      time: new Date().toISOString(),
      "service.name": this.o.service,
      trace_id: traced.traceId,
      span_id: traced.spanId,
      method: req.method ?? "GET",
      route: labels.route,
      model: labels.model,
      status,
      outcome,
      e2e_ms: 0,
      error: message,
    });
  }

  /** Records one finished request in metrics, the log and its span. */
  finish(
    rec: RequestRecord,
    outcome: ProxyOutcome,
    llm: boolean,
    labels: ReturnType<ProxyMetrics["labels"]>,
    traced: TracedRequest,
    method: string,
    session?: string,
    hashIds?: number[],
  ): void {
    const m = this.metrics;
    const status = String(rec.status ?? 0);
    const e2eMs = (rec.endMs ?? rec.startMs) - rec.startMs;
    const exemplar = { trace_id: traced.traceId };
    const metrics = requestMetrics(rec);
    if (llm) {
      m.requests.inc({ ...labels, outcome, status });
      // A break is a stream that started and ended early; a request that got no stream is not one.
      const started = rec.headersMs !== undefined && (rec.status ?? 0) < 300;
      if (started && (outcome === "upstream_drop" || outcome === "client_disconnect")) {
        m.breaks.inc({
          ...labels,
          cause:
            outcome === "client_disconnect"
              ? outcome
              : rec.error?.code === "body_timeout"
                ? "timeout"
                : (rec.error?.code ?? "stream_dropped"),
        });
      }
      if (outcome === "ok") {
        if (metrics.ttftMs !== undefined)
          m.ttft.observe({ labels, value: metrics.ttftMs / 1000, exemplarLabels: exemplar });
        if (metrics.tpotMs !== undefined)
          m.tpot.observe({ labels, value: metrics.tpotMs / 1000, exemplarLabels: exemplar });
        m.itl.observeGaps(labels, rec.chunkTimesMs);
        m.e2e.observe({ labels, value: e2eMs / 1000, exemplarLabels: exemplar });
        m.outputTokens.observe({ labels, value: metrics.outputTokens });
      }
      this.countSlo(rec, outcome, labels);
    } else {
      m.httpDuration.observe({ ...labels, status }, e2eMs / 1000);
    }
    const span = traced.span;
    span.setAttribute("http.response.status_code", rec.status ?? 0);
    span.setAttribute("streamslo.outcome", outcome);
    span.setAttribute("gen_ai.request.model", labels.model);
    if (metrics.ttftMs !== undefined) span.setAttribute("streamslo.ttft_ms", metrics.ttftMs);
    if (rec.outputTokens !== undefined) span.setAttribute("gen_ai.usage.output_tokens", rec.outputTokens);
    if (rec.promptTokens !== undefined) span.setAttribute("gen_ai.usage.input_tokens", rec.promptTokens);
    // A server span's 4xx is the caller's mistake, not an error (OpenTelemetry HTTP semantic conventions).
    if (outcome !== "ok" && outcome !== "client_error")
      span.setStatus({ code: SpanStatusCode.ERROR, message: rec.error?.message ?? outcome });
    span.end();
    const nowWall = Date.now();
    this.log.write({
      time: new Date(nowWall).toISOString(),
      arrived_at: new Date(nowWall - (this.clock.now() - rec.startMs)).toISOString(),
      session_id: session,
      "service.name": this.o.service,
      trace_id: traced.traceId,
      span_id: traced.spanId,
      method,
      route: labels.route,
      model: labels.model,
      status: rec.status ?? 0,
      outcome,
      ttft_ms: metrics.ttftMs,
      tpot_ms: metrics.tpotMs,
      e2e_ms: e2eMs,
      output_tokens: llm ? rec.outputTokens : undefined,
      input_tokens: llm ? rec.promptTokens : undefined,
      hash_ids: hashIds,
      error: rec.error ? `${rec.error.code}: ${rec.error.message}` : undefined,
    });
  }

  /** Goodput counters per criterion (client disconnects are not the service's to count). */
  private countSlo(
    rec: RequestRecord,
    outcome: ProxyOutcome,
    labels: ReturnType<ProxyMetrics["labels"]>,
  ): void {
    if (outcome === "client_disconnect" || outcome === "client_error") return;
    const judged = judgeRequest(rec, this.criteria);
    if (this.liveBurn) {
      rec.slo = judged;
      const now = this.clock.now();
      for (const slo of this.liveBurn.slos) {
        const c = recordEvents(rec, slo);
        if (c) this.liveBurn.recordCounts(slo.name, c.good, c.bad, now);
      }
    }
    for (const c of this.metrics.criteria) {
      this.metrics.sloTotal.inc({ ...labels, criterion: c });
      const good = c === "all" ? judged.good : rec.outcome === "ok" && !judged.missed.includes(c);
      if (good) this.metrics.sloGood.inc({ ...labels, criterion: c });
    }
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * Records the end of `h`'s stream once this turn of the event loop has relayed all it read:
   * setImmediate runs after the poll phase, so the chunks of other streams that came in the same
   * turn are not held back behind this stream's metrics, SLO counts, span and log line.
   */
  recordEnd(h: ForwardHandler): void {
    this.ended.push(h);
    if (this.endsScheduled) return;
    this.endsScheduled = true;
    setImmediate(this.recordEnds);
  }

  private readonly recordEnds = (): void => {
    this.endsScheduled = false;
    const queue = this.ended;
    // Recording never ends another stream, so the length is fixed for this pass.
    for (let i = 0; i < queue.length; i++) {
      try {
        (queue[i] as ForwardHandler).complete();
      } catch (err) {
        // A fault in recording one stream must not take the others, or the proxy, down with it.
        process.stderr.write(`streamslo proxy: recording a request failed: ${(err as Error).message}\n`);
      }
    }
    queue.length = 0;
  };
}

/** The header a client names its conversation by (README "proxy"), when it is a short printable id. */
export const SESSION_HEADER = "x-session-id";

function sessionOf(req: IncomingMessage): string | undefined {
  const v = req.headers[SESSION_HEADER];
  const id = Array.isArray(v) ? v[0] : v;
  return id !== undefined && /^[\x21-\x7e]{1,128}$/.test(id) ? id : undefined;
}

function flushHead(h: ForwardHandler): void {
  h.flushHead();
}

function recordPending(h: ForwardHandler): void {
  h.recordPending();
}

type Break = { code: ReturnType<typeof transportErrorCode>; message: string };

/** Relays one upstream response to the client while recording it. */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private acc?: StreamAccumulator;
  /** Buffers relayed in this tick, and their arrival times, not yet fed to the accumulator. */
  private readonly pending: Buffer[] = [];
  private readonly pendingMs: number[] = [];
  private recordScheduled = false;
  /** When the upstream body ended cleanly; its recording waits for StreamsloProxy.recordEnd. */
  private endedMs?: number;
  private bodyStarted = false;
  private jsonParts: Buffer[] = [];
  private jsonBytes = 0;
  private done = false;
  private clientGone = false;
  private readonly rec: RequestRecord;
  /** An upstream that compressed the body: the client gets its bytes as they are, recording reads them decoded. */
  private decoder?: BodyDecoder;
  private decoded = false;
  /** The proxy's drain deadline cut this request: its outcome is the proxy's, not the client's. */
  private drainCut = false;

  constructor(
    private readonly proxy: StreamsloProxy,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly llm: boolean,
    /** Chunks are valid only during onResponseData: copy what is kept or written. */
    private readonly lent: boolean,
    startMs: number,
    private readonly labels: () => ReturnType<ProxyMetrics["labels"]>,
    private readonly traced: TracedRequest,
    private readonly hashes: (() => number[] | undefined) | undefined,
    private readonly resolve: () => void,
  ) {
    this.rec = {
      id: traced.spanId,
      scenario: "proxy",
      phase: "measure",
      intendedStartMs: startMs,
      startMs,
      chunkTimesMs: [],
      chunkTokens: [],
      tokenSource: "chunks",
      outcome: "error",
    };
    res.on("close", () => {
      if (this.done || this.endedMs !== undefined || this.drainCut) return;
      // The client hung up: stop the upstream too, so the GPU stops generating for nobody.
      this.clientGone = true;
      this.controller?.abort(Object.assign(new Error("client disconnected"), { name: "AbortError" }));
    });
  }

  /** Ends the request at the drain deadline: the upstream is stopped and the client's stream cut. */
  cutByDrain(): void {
    if (this.done || this.endedMs !== undefined) return;
    this.drainCut = true;
    this.controller?.abort(
      Object.assign(new Error("cut at the proxy's drain deadline"), { name: "AbortError" }),
    );
    this.res.destroy();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.drainCut) controller.abort(new Error("cut at the proxy's drain deadline"));
    if (this.clientGone) controller.abort(new Error("client disconnected"));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.rec.headersMs = this.proxy.now();
    this.rec.status = statusCode;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    if (headers["content-length"] !== undefined) out["content-length"] = headers["content-length"] as string;
    this.res.writeHead(statusCode, out);
    // The head goes out with the first body bytes when they came in the same read (one write
    // instead of two); otherwise it is sent on its own at the end of this tick, so a server that
    // answers with headers first (vLLM does) still has them reach the client at once.
    process.nextTick(flushHead, this);
    const type = String(headers["content-type"] ?? "");
    if (this.llm && statusCode < 300 && type.includes("text/event-stream"))
      // A line without end is still relayed, but past MAX_EVENT_CHARS no longer parsed.
      this.acc = new StreamAccumulator();
    if (this.llm && statusCode < 300) {
      const d = decoderFor(
        headers["content-encoding"],
        (chunk, t) => this.recordBytes(chunk, t),
        () => {
          this.decoded = true;
          if (this.endedMs !== undefined) this.proxy.recordEnd(this);
        },
      );
      if (d !== "unsupported") this.decoder = d;
    }
  }

  /** Body bytes as the server meant them (decoded), to the accumulator or the JSON buffer. */
  private recordBytes(chunk: Buffer, t: number): void {
    if (this.acc) this.acc.push(chunk, t);
    else if (this.jsonBytes < 1 << 20) {
      this.jsonParts.push(chunk);
      this.jsonBytes += chunk.length;
    }
  }

  onResponseData(c: Dispatcher.DispatchController, data: Buffer): void {
    const now = this.proxy.now();
    // res.write may queue the chunk, and recording reads it after this call.
    const chunk = this.lent ? Buffer.from(data) : data;
    this.bodyStarted = true;
    if (!this.res.write(chunk)) {
      c.pause();
      this.res.once("drain", () => c.resume());
    }
    // http corks the socket until the end of this tick, so all that one upstream read brought
    // (and the response's end, when it came in the same read) leaves in one write. Recording
    // waits until after that write: measuring must not delay what it measures.
    if (this.acc || this.decoder) {
      this.pending.push(chunk);
      this.pendingMs.push(now);
      if (!this.recordScheduled) {
        this.recordScheduled = true;
        process.nextTick(recordPending, this);
      }
    } else if (this.llm && this.jsonBytes < 1 << 20) {
      this.jsonParts.push(chunk);
      this.jsonBytes += chunk.length;
    }
  }

  /** Sends the response head if no body bytes have taken it along yet. */
  flushHead(): void {
    if (!this.bodyStarted && !this.res.writableEnded && !this.res.destroyed) this.res.flushHeaders();
  }

  /** Feeds the accumulator what was relayed since the last call. */
  recordPending(): void {
    this.recordScheduled = false;
    const acc = this.acc;
    const decoder = this.decoder;
    if (decoder)
      for (let i = 0; i < this.pending.length; i++)
        decoder.write(this.pending[i] as Buffer, this.pendingMs[i] as number);
    else if (acc)
      for (let i = 0; i < this.pending.length; i++)
        acc.push(this.pending[i] as Buffer, this.pendingMs[i] as number);
    this.pending.length = 0;
    this.pendingMs.length = 0;
  }

  onResponseEnd(): void {
    this.endedMs = this.proxy.now();
    this.res.end();
    if (this.decoder && !this.decoded) {
      // Recorded once the decoder has given out the last of the body (its end callback).
      this.recordPending();
      this.decoder.end();
    } else this.proxy.recordEnd(this);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.decoder?.destroy();
    const afterHeaders = this.rec.headersMs !== undefined;
    const code = transportErrorCode(err, afterHeaders);
    if (!this.clientGone && !this.drainCut) {
      if (!afterHeaders) {
        // The status is what the client was answered, so status=~"5.." queries see it.
        this.rec.status = code === "headers_timeout" ? 504 : 502;
        sendError(this.res, this.rec.status, `upstream ${code}: ${err.message}`);
      } else {
        this.res.destroy(); // pass the break on: the client must not mistake a cut stream for a whole one
      }
    }
    this.complete({ code, message: err.message });
  }

  complete(broke?: Break): void {
    if (this.done) return;
    this.done = true;
    try {
      this.record(broke);
    } finally {
      this.resolve(); // whatever recording does, the request is over
    }
  }

  private record(broke?: Break): void {
    this.recordPending();
    const rec = this.rec;
    rec.endMs = this.endedMs ?? this.proxy.now();
    let outcome: ProxyOutcome;
    if (this.drainCut) {
      const started = rec.headersMs !== undefined;
      Object.assign(rec, verdictFor("drain_cut", "cut at the proxy's --drain deadline"));
      // A stream it cut is a drop; a request it cut before any answer is one the service failed.
      outcome = started ? "upstream_drop" : "upstream_error";
    } else if (this.clientGone) {
      Object.assign(rec, verdictFor("aborted", "client disconnected"));
      outcome = "client_disconnect";
    } else if (rec.headersMs === undefined || (rec.status ?? 0) >= (this.llm ? 300 : 500)) {
      // An LLM request is a failed one unless 2xx; any other route (models, health, a 304 from a
      // cache check) fails only by a server error, as an HTTP server span does.
      const code: ErrorCode =
        rec.headersMs === undefined ? (broke?.code ?? "client_error") : `http_${rec.status ?? 0}`;
      Object.assign(rec, verdictFor(code, broke?.message ?? `HTTP ${rec.status}`));
      outcome =
        code === "headers_timeout" ? "timeout" : isClientFault(code) ? "client_error" : "upstream_error";
    } else {
      const s = this.acc
        ? this.acc.end(rec.endMs, broke === undefined)
        : summarizeCompletion(Buffer.concat(this.jsonParts).toString("utf8"), rec.endMs);
      redactSummary(s, credentials(this.req.headers));
      rec.firstContentMs = s.firstContentMs;
      rec.chunkTimesMs = s.chunkTimesMs;
      rec.chunkTokens = s.chunkTokens;
      rec.promptTokens = s.promptTokens;
      rec.outputTokens = s.completionTokens ?? s.chunkTokens.reduce((a, b) => a + b, 0);
      rec.tokenSource = s.completionTokens !== undefined ? "usage" : "chunks";
      const v = this.acc
        ? classifyStream(s, broke)
        : broke
          ? verdictFor(broke.code, broke.message)
          : { outcome: "ok" as const };
      rec.outcome = v.outcome;
      if (v.error) rec.error = v.error;
      // A stream that broke (a silence past --timeout too: body_timeout is incomplete, its cause in
      // stream_breaks_total) is a drop, as budget and the live gauges count it.
      outcome = v.outcome === "ok" ? "ok" : v.outcome === "incomplete" ? "upstream_drop" : "upstream_error";
      if (!this.llm) outcome = broke ? "upstream_drop" : "ok";
    }
    this.proxy.finish(
      rec,
      outcome,
      this.llm,
      this.labels(),
      this.traced,
      this.req.method ?? "GET",
      sessionOf(this.req),
      this.hashes?.(),
    );
  }
}
