import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createGzip, gunzipSync } from "node:zlib";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { parsePrometheusText } from "../../src/core/prometheus-text.js";
import { requestMetrics } from "../../src/core/request-metrics.js";
import { PROXY_METRICS } from "../../src/core/slo/conventions.js";
import { parseSloYaml } from "../../src/core/slo-spec.js";
import { createTracing, SpanStatusCode } from "../../src/proxy/tracing.js";
import { simParams } from "../../src/sim/presets.js";
import { startSimServer } from "../../src/sim/sim-server.js";
import { tempDir } from "../helpers/cli.js";
import {
  chatBody,
  exchange,
  scrape,
  seededRng,
  sha256,
  sleep,
  startProxy,
  waitFor,
} from "../helpers/proxy-harness.js";
import { quickBench } from "../helpers/run-bench.js";
import { chat, evenStream, startScheduledServer } from "../helpers/scheduled-server.js";

const CHAT = "/v1/chat/completions";

/** Everything a test started, stopped in reverse order in `after` (also when the test failed). */
const cleanups: (() => Promise<unknown>)[] = [];
function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
after(
  async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  },
  { timeout: 15_000 },
);

/** Sum of the samples called `name` whose labels include `match`. */
const EXAMPLE_PRODUCTION_SLO = fileURLToPath(
  new URL("../../../examples/slo-production.yaml", import.meta.url),
);

function metric(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of parsePrometheusText(text).samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** POSTs `body` to the proxy's chat route on a connection of its own. */
function postChat(
  url: string,
  body: string,
  onError: (e: Error) => void,
  onResponse: (res: IncomingMessage) => void,
): void {
  const req = httpRequest(url + CHAT, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json" },
  });
  req.on("error", onError);
  req.on("response", onResponse);
  req.end(body);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A plain loopback server for upstreams the scheduled server cannot play; closed at the end. */
async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads a request body to the end. */
function drainBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

interface RawSocket {
  socket: Socket;
  /** Everything the peer sent, once it closed. */
  reply: Promise<string>;
  /** What the peer sent so far. */
  sofar(): string;
}

/** Opens a raw TCP connection to an http:// URL's host and port. */
function rawSocket(url: string): Promise<RawSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = "";
    const reply = new Promise<string>((done) => {
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
      });
      socket.on("close", () => done(text));
      socket.on("error", () => undefined); // a reset still ends in "close"
    });
    socket.once("connect", () => resolve({ socket, reply, sofar: () => text }));
    socket.once("error", reject);
  });
}

/** The status code of a raw HTTP/1.1 response, 0 when there is none. */
function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
}

/** Decodes an HTTP/1.1 chunked body; throws when it is cut before its last chunk. */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) throw new Error(`chunked body cut at ${at} of ${raw.length} bytes`);
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(parts);
    if (eol + 2 + size + 2 > raw.length) throw new Error(`chunked body cut at ${at} of ${raw.length} bytes`);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * A seeded SSE body that is hard to relay: multi-byte UTF-8, LF and CRLF framing, comments, extra
 * fields, long lines; cut into pieces of 1 byte to 3 KB at arbitrary byte offsets.
 */
function sseBody(seed: number): { pieces: Buffer[]; splitChars: number } {
  const rng = seededRng(seed);
  const words = ["héllo", "wörld", "✓", "日本語", "🚀", "naïve", "Ω≈ç√", "emoji👩‍💻", "plain", "ascii"];
  const pick = () => words[Math.floor(rng() * words.length)] as string;
  let text = `: stream ${seed} opens\r\n\r\n`;
  text += `data: ${chat.role()}\n\n`;
  const events = 20 + Math.floor(rng() * 40);
  for (let i = 0; i < events; i++) {
    const eol = rng() < 0.5 ? "\r\n" : "\n";
    const r = rng();
    if (r < 0.15) text += `: keep-alive ${i} ${pick()}${eol}${eol}`;
    else if (r < 0.25)
      text += `id: ${i}${eol}event: message${eol}data: ${chat.token(` ${pick()}`)}${eol}${eol}`;
    else if (r < 0.35)
      text += `data: ${chat.token(` ${pick().repeat(200 + Math.floor(rng() * 800))}`)}${eol}${eol}`;
    else text += `data: ${chat.token(` ${pick()} ${pick()}`)}${eol}${eol}`;
  }
  text += `data: ${chat.finish("stop")}\r\n\r\ndata: [DONE]\r\n\r\n`;
  const all = Buffer.from(text, "utf8");
  const pieces: Buffer[] = [];
  let splitChars = 0;
  for (let at = 0; at < all.length; ) {
    const size = rng() < 0.5 ? 1 + Math.floor(rng() * 8) : 1 + Math.floor(rng() * 3000);
    const end = Math.min(all.length, at + size);
    pieces.push(all.subarray(at, end));
    // a cut right before a continuation byte splits a multi-byte character across writes
    if (end < all.length && ((all[end] as number) & 0xc0) === 0x80) splitChars++;
    at = end;
  }
  return { pieces, splitChars };
}

// a regression that leaves a stream stuck fails here, instead of hanging the run
describe("streamslo proxy", { timeout: 60_000 }, () => {
  it("makes the SLI series at 0 before the first request, so rate() sees every first event", async () => {
    const upstream = await startScheduledServer(() => ({ writes: evenStream(3, 1, 3) }));
    onCleanup(upstream.close);
    const p = await startProxy(upstream.origin);
    onCleanup(p.stop);
    const m = await scrape(p.adminUrl);
    // Every model label a generation can get (the allowlist's and "other"), on either LLM route.
    for (const model of ["streamslo-sim", "other"]) {
      for (const route of ["/v1/chat/completions", "/v1/completions"]) {
        const at = `service="proxy-test",model="${model}",route="${route}"`;
        for (const [outcome, status] of [
          ["ok", "200"],
          ["upstream_drop", "200"],
          ["upstream_error", "502"],
          ["timeout", "504"],
          ["rejected", "429"],
        ]) {
          const series = `${PROXY_METRICS.requests}{${at},outcome="${outcome}",status="${status}"} 0`;
          assert.ok(m.includes(`\n${series}\n`), series);
        }
        assert.ok(m.includes(`${PROXY_METRICS.ttft}_count{${at}} 0`), `ttft ${at}`);
        assert.ok(m.includes(`${PROXY_METRICS.itl}_count{${at}} 0`), `itl ${at}`);
        assert.ok(m.includes(`${PROXY_METRICS.sloGood}{${at},criterion="all"} 0`), `goodput ${at}`);
      }
    }
  });

  it("relays SSE byte for byte to 32 concurrent clients", async () => {
    const wrote = new Map<string, string>();
    let splitChars = 0;
    const upstream = await startUpstream(async (req, res) => {
      await drainBody(req);
      const seed = Number(req.headers["x-seed"]);
      const { pieces, splitChars: s } = sseBody(seed);
      splitChars += s;
      const hash = createHash("sha256");
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.flushHeaders();
      for (const [i, p] of pieces.entries()) {
        if (res.destroyed) return;
        res.write(p);
        hash.update(p);
        // yield between writes, so pieces leave as separate TCP segments and interleave across streams
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1));
        else await new Promise((r) => setImmediate(r));
      }
      res.end();
      wrote.set(String(seed), hash.digest("hex"));
    });
    const p = await startProxy(upstream);
    onCleanup(p.stop);

    const seeds = Array.from({ length: 32 }, (_, i) => 1000 + i);
    const results = await Promise.all(
      seeds.map((seed) => exchange(p.url + CHAT, { body: chatBody(), headers: { "x-seed": String(seed) } })),
    );
    assert.ok(splitChars > 32, `multi-byte characters split across writes: ${splitChars}`);
    for (const [i, r] of results.entries()) {
      const seed = String(seeds[i]);
      assert.equal(r.status, 200, r.error);
      assert.ok(r.complete, `stream ${seed} complete`);
      assert.equal(r.headers["content-type"], "text/event-stream");
      assert.equal(
        sha256(r.body),
        wrote.get(seed),
        `stream ${seed}: bytes differ (${r.body.length} received)`,
      );
    }
    const m = await scrape(p.adminUrl);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), 32);
    assert.equal(metric(m, PROXY_METRICS.requests), 32);
  });

  it("measures the same TTFT and E2E as streamslo bench does through it", async () => {
    const ttft = 150;
    const itl = 20;
    const tokens = 10;
    const upstream = await startScheduledServer(() => ({ writes: evenStream(ttft, itl, tokens) }));
    onCleanup(upstream.close);
    const p = await startProxy(upstream.origin);
    onCleanup(p.stop);

    const bench = await quickBench(`${p.url}/v1`, [2], 8, { maxTokens: tokens });
    const ok = bench.records.filter((r) => r.outcome === "ok");
    assert.ok(ok.length >= 8, `ok records: ${ok.length}`);
    const m = await scrape(p.adminUrl);
    const count = metric(m, `${PROXY_METRICS.ttft}_count`);
    // cool-down requests the bench cancelled are client disconnects, in neither histogram
    assert.equal(count, ok.length, "one TTFT observation per ok request");
    assert.equal(metric(m, `${PROXY_METRICS.e2e}_count`), ok.length);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), ok.length);

    const proxyTtft = (metric(m, `${PROXY_METRICS.ttft}_sum`) / count) * 1000;
    const clientTtft = mean(ok.map((r) => requestMetrics(r).ttftMs as number));
    const proxyE2e = (metric(m, `${PROXY_METRICS.e2e}_sum`) / count) * 1000;
    // the proxy's E2E runs to the end of the body: the client's wall time (stream end - start)
    const clientE2e = mean(ok.map((r) => requestMetrics(r).wallMs as number));
    const shown = `proxy ttft ${proxyTtft.toFixed(2)} client ${clientTtft.toFixed(2)}; e2e ${proxyE2e.toFixed(2)} vs ${clientE2e.toFixed(2)}`;
    assert.ok(proxyTtft >= ttft - 2 && proxyTtft < ttft + 40, shown);
    // The proxy starts its clock after the client did and sees each byte first: never later, and
    // earlier by the loopback hops (2-4 ms on an idle machine; the bound leaves room for a busy one).
    const close = 15;
    assert.ok(proxyTtft <= clientTtft + 0.5, shown);
    assert.ok(clientTtft - proxyTtft < close, shown);
    const expectedE2e = ttft + (tokens - 1) * itl;
    assert.ok(proxyE2e >= expectedE2e - 2 && proxyE2e < expectedE2e + 60, shown);
    assert.ok(proxyE2e <= clientE2e + 0.5, shown);
    assert.ok(clientE2e - proxyE2e < close, shown);
    // and the bench's own summary of its measured requests says the same
    const level = bench.level(2);
    assert.equal(level.ok, 8);
    assert.ok(
      Math.abs(level.ttft_ms.mean - proxyTtft) < close,
      `bench mean TTFT ${level.ttft_ms.mean}; ${shown}`,
    );
    assert.ok(
      Math.abs(level.wall_ms.mean - proxyE2e) < close,
      `bench mean wall ${level.wall_ms.mean}; ${shown}`,
    );
  });

  it("relays a compressed upstream stream as it is, and measures it decoded", async () => {
    const tokens = 6;
    const upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" });
        const z = createGzip();
        z.pipe(res);
        const events = [chat.role(), ...Array.from({ length: tokens }, (_, i) => chat.token(`t${i}`))];
        events.push(chat.finish(), chat.usage(3, tokens), "[DONE]");
        let i = 0;
        const timer = setInterval(() => {
          z.write(`data: ${events[i++]}\n\n`);
          z.flush();
          if (i === events.length) {
            clearInterval(timer);
            z.end();
          }
        }, 15);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    onCleanup(() => new Promise((r) => upstream.close(r)));
    const p = await startProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    onCleanup(p.stop);
    const got = await exchange(`${p.url}${CHAT}`, {
      body: chatBody(),
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(got.status, 200);
    assert.equal(got.headers["content-encoding"], "gzip", "the client gets what the upstream sent");
    const text = gunzipSync(got.body).toString("utf8");
    assert.match(text, /data: \[DONE\]/);
    // Recorded once zlib has given out the last of the body, a turn or two after the client saw its end.
    await waitFor(async () => metric(await scrape(p.adminUrl), PROXY_METRICS.requests) > 0);
    const m = await scrape(p.adminUrl);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), 1, "recorded ok, not not_sse");
    assert.equal(metric(m, `${PROXY_METRICS.ttft}_count`), 1);
    assert.equal(metric(m, `${PROXY_METRICS.outputTokens}_sum`), tokens);
    // TTFT is when the first token's compressed bytes arrived, not the end of the body.
    const ttftMs = (metric(m, `${PROXY_METRICS.ttft}_sum`) * 1000) / 1;
    const e2eMs = metric(m, `${PROXY_METRICS.e2e}_sum`) * 1000;
    assert.ok(ttftMs < e2eMs - 50, `ttft ${ttftMs.toFixed(1)} ms, e2e ${e2eMs.toFixed(1)} ms`);
  });

  it("aborts the upstream when the client disconnects", async () => {
    let closedAt: number | undefined;
    let finishedNormally = false;
    let tokensSent = 0;
    const upstream = await startUpstream(async (req, res) => {
      await drainBody(req);
      res.on("close", () => {
        closedAt = performance.now();
        finishedNormally = res.writableFinished;
      });
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: ${chat.role()}\n\n`);
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        await sleep(50); // 5 s of tokens
        if (res.destroyed) break;
        res.write(`data: ${chat.token(` t${i}`)}\n\n`);
        tokensSent++;
      }
      if (!res.destroyed) res.end("data: [DONE]\n\n");
    });
    const p = await startProxy(upstream);
    onCleanup(p.stop);

    const abort = new AbortController();
    let received = 0;
    const done = exchange(p.url + CHAT, {
      body: chatBody(),
      signal: abort.signal,
      onData: (c) => {
        received += c.length;
      },
    });
    await sleep(300);
    assert.ok(received > 0, "tokens were flowing");
    const abortedAt = performance.now();
    abort.abort();
    const r = await done;
    assert.equal(r.complete, false);

    assert.ok(await waitFor(() => closedAt !== undefined, 2000), "upstream saw its response close");
    const lag = (closedAt as number) - abortedAt;
    assert.ok(lag < 1000, `upstream closed ${lag.toFixed(0)} ms after the client left`);
    assert.equal(finishedNormally, false, "the upstream was cut off, not finished");
    assert.ok(tokensSent < 40, `the upstream stopped generating (${tokensSent} tokens sent)`);

    let m = "";
    assert.ok(
      await waitFor(async () => {
        m = await scrape(p.adminUrl);
        return metric(m, PROXY_METRICS.requests, { outcome: "client_disconnect" }) === 1;
      }),
      m,
    );
    assert.equal(metric(m, PROXY_METRICS.requests), 1);
    assert.equal(metric(m, "streamslo_stream_breaks_total", { cause: "client_disconnect" }), 1);
    assert.equal(metric(m, PROXY_METRICS.activeStreams), 0);
    assert.equal(metric(m, `${PROXY_METRICS.ttft}_count`), 0, "a disconnect is not a latency sample");
  });

  it("counts the simulator's injected faults by cause", async () => {
    const sim = await startSimServer(
      simParams("fast", {
        seed: 7,
        faults: {
          http5xxRate: 0.15,
          dropRate: 0.25,
          stallRate: 0,
          stallMs: 0,
          slowFirstByteRate: 0,
          slowFirstByteMs: 0,
          inbandErrorRate: 0,
        },
      }),
    );
    onCleanup(sim.close);
    // production SLOs: the proxy also exports in-process burn rates and budget for them
    const slo = parseSloYaml(readFileSync(EXAMPLE_PRODUCTION_SLO, "utf8"), "slo-production.yaml");
    const p = await startProxy(sim.origin, { slo });
    onCleanup(p.stop);

    const n = 60;
    const results: Awaited<ReturnType<typeof exchange>>[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        results.push(await exchange(p.url + CHAT, { body: chatBody(16) }));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.equal(results.length, n);

    const http503 = results.filter((r) => r.status === 503).length;
    const broken = results.filter((r) => r.status === 200 && !r.complete).length;
    const whole = results.filter((r) => r.status === 200 && r.complete);
    assert.equal(http503 + broken + whole.length, n, "only 200s and 503s");
    assert.ok(http503 > 0 && broken > 0, `faults fired: ${http503} x 503, ${broken} drops`);
    for (const r of whole)
      assert.match(r.body.toString(), /data: \[DONE\]\n\n$/, "a clean end is a whole stream");
    for (const r of results.filter((x) => x.status === 200 && !x.body.toString().includes("[DONE]"))) {
      // each drop reached the client as a broken connection, never as a clean end it could mistake for whole
      assert.equal(r.complete, false);
    }

    const m = await scrape(p.adminUrl);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "upstream_error" }), http503);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "upstream_error", status: "503" }), http503);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "upstream_drop" }), broken);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), whole.length);
    assert.equal(metric(m, PROXY_METRICS.requests), n);
    assert.equal(metric(m, "streamslo_stream_breaks_total"), broken);
    assert.equal(metric(m, `${PROXY_METRICS.ttft}_count`), whole.length, "only whole streams are timed");

    // availability: 503s are bad of all requests; drops: broken streams of those that streamed
    const budget = 0.001; // 99.9% objectives
    const burn = (slo: string, window: string) => metric(m, PROXY_METRICS.liveBurnRate, { slo, window });
    const availability = http503 / n / budget;
    const drops = broken / (broken + whole.length) / budget;
    for (const w of ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]) {
      assert.ok(
        Math.abs(burn("availability", w) - availability) < 1e-6,
        `availability ${w}: ${burn("availability", w)}`,
      );
      assert.ok(Math.abs(burn("drops", w) - drops) < 1e-6, `drops ${w}`);
    }
    const remaining = (slo: string) => metric(m, PROXY_METRICS.liveBudgetRemaining, { slo });
    assert.ok(Math.abs(remaining("availability") - (1 - availability)) < 1e-6);
    assert.ok(remaining("drops") < 0, "a 25% drop rate overspends a 0.1% budget");
    assert.ok(burn("goodput", "5m") > 0);
  });

  it("judges an ITL SLO per gap in its live gauges, as the rules read the gap histogram", async () => {
    // gaps of 30, 30, 200 and 30 ms: one of four over 100 ms
    const at = [20, 50, 80, 280, 310];
    const writes = [
      { atMs: 0, data: chat.role() },
      ...at.map((t, i) => ({ atMs: t, data: chat.token(` t${i}`, i === at.length - 1 ? "length" : null) })),
      { atMs: 310, data: "[DONE]" },
    ];
    const upstream = await startScheduledServer(() => ({ writes }));
    onCleanup(upstream.close);
    const yaml =
      "service: itl-demo\nslos:\n  - {name: itl, sli: latency, metric: itl, threshold: 100ms, objective: 99}\n";
    const p = await startProxy(upstream.origin, { slo: parseSloYaml(yaml, "itl.yaml") });
    onCleanup(p.stop);
    for (let i = 0; i < 3; i++) assert.ok((await exchange(p.url + CHAT, { body: chatBody() })).complete);
    const m = await scrape(p.adminUrl);
    const gaps = metric(m, `${PROXY_METRICS.itl}_count`);
    const under = metric(m, `${PROXY_METRICS.itl}_bucket`, { le: "0.1" });
    assert.equal(gaps - under, 3, "the three 200 ms gaps");
    const fromHistogram = (1 - under / gaps) / 0.01;
    const live = metric(m, PROXY_METRICS.liveBurnRate, { slo: "itl", window: "5m" });
    assert.ok(Math.abs(live - fromHistogram) < 1e-9, `live ${live}, histogram ${fromHistogram}`);
    assert.ok(live < 100, "not every request's worst gap: that would be a burn of 100");
  });

  describe("limits", () => {
    it("answers 429 with Retry-After beyond maxStreams", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(600, 10, 5) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin, { maxStreams: 2 });
      onCleanup(p.stop);

      const first = [
        exchange(p.url + CHAT, { body: chatBody() }),
        exchange(p.url + CHAT, { body: chatBody() }),
      ];
      assert.ok(await waitFor(() => p.proxy.metrics.inFlight === 2), "two streams in flight");
      const refused = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers["retry-after"], "1");
      assert.match(JSON.parse(refused.body.toString()).error.message, /more than 2 streams/);
      // other routes are not streams: they pass while the streams are full
      const models = await exchange(`${p.url}/v1/models`, { method: "GET" });
      assert.equal(models.status, 200);

      for (const r of await Promise.all(first)) assert.equal(r.status, 200);
      const later = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(later.status, 200, "a slot is free again");
      assert.equal(
        upstream.received.filter((x) => x.path === CHAT).length,
        3,
        "the refused one never went upstream",
      );
      // Shed load is what users see of the service: counted, as availability's "rejected".
      const m = await scrape(p.adminUrl);
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "rejected", status: "429" }), 1);
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), 3);
    });

    it("holds to maxStreams when request bodies arrive slowly", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(400, 10, 5) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin, { maxStreams: 2 });
      onCleanup(p.stop);

      // two clients send their headers, then take their time with the body
      const body = chatBody();
      const slow = await Promise.all([rawSocket(p.url), rawSocket(p.url)]);
      for (const s of slow) {
        s.socket.write(
          `POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
        );
      }
      await sleep(100);
      const third = exchange(p.url + CHAT, { body });
      await sleep(100);
      for (const s of slow) s.socket.write(body); // no half-close: Node's server takes that as a hang-up
      const [thirdReply, ...slowReplies] = await Promise.all([third, ...slow.map((s) => s.reply)]);
      const statuses = [thirdReply.status, ...slowReplies.map(statusOf)];
      assert.equal(statuses.filter((s) => s === 200).length, 2, `statuses ${statuses.join(", ")}`);
      assert.equal(statuses.filter((s) => s === 429).length, 1, `statuses ${statuses.join(", ")}`);
      assert.equal(upstream.received.length, 2, "never more than maxStreams upstream");
    });

    it("answers 431 to oversized headers and keeps serving", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(5, 1, 3) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin, { maxHeaderBytes: 8 * 1024 });
      onCleanup(p.stop);

      const big = await exchange(p.url + CHAT, {
        body: chatBody(),
        headers: { "x-big": "a".repeat(20_000) },
      });
      assert.equal(big.status, 431);
      const fine = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(fine.status, 200);
      assert.ok(fine.complete);
      assert.equal(upstream.received.length, 1, "the oversized request never went upstream");
    });

    it("answers 413 to an oversized body and keeps serving", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(5, 1, 3) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin, { maxBodyBytes: 64 * 1024 });
      onCleanup(p.stop);

      const big = await exchange(p.url + CHAT, { body: chatBody(16, { pad: "a".repeat(2_000_000) }) });
      assert.equal(big.status, 413, big.error);
      assert.match(JSON.parse(big.body.toString()).error.message, /over 65536 bytes/);
      const fine = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(fine.status, 200);
      assert.equal(upstream.received.length, 1, "the oversized request never went upstream");
      const m = await scrape(p.adminUrl);
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "client_error", status: "413" }), 1);
    });

    it("counts a client that hangs up mid-body as a disconnect, not a 413", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(5, 1, 3) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin);
      onCleanup(p.stop);
      const raw = await rawSocket(p.url);
      raw.socket.write(
        `POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"mo`,
      );
      await sleep(50);
      raw.socket.destroy();
      await raw.reply;
      let m = "";
      assert.ok(
        await waitFor(async () => {
          m = await scrape(p.adminUrl);
          return metric(m, PROXY_METRICS.requests, { outcome: "client_disconnect" }) === 1;
        }),
        m,
      );
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "client_error" }), 0);
      assert.equal(upstream.received.length, 0, "nothing went upstream");
    });

    it("answers 502 with a JSON error when the upstream is unreachable", async () => {
      // a port that was free a moment ago and is closed now
      const gone = createServer();
      await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
      const port = (gone.address() as AddressInfo).port;
      await new Promise<void>((resolve) => gone.close(() => resolve()));
      const p = await startProxy(`http://127.0.0.1:${port}`);
      onCleanup(p.stop);

      const r = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(r.status, 502);
      assert.match(String(r.headers["content-type"]), /^application\/json/);
      const doc = JSON.parse(r.body.toString()) as { error: { message: string; code: number } };
      assert.equal(doc.error.code, 502);
      assert.match(doc.error.message, /connect_refused/);
      const m = await scrape(p.adminUrl);
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "upstream_error", status: "502" }), 1);
    });

    it("answers 504 when the upstream sends no headers in time, and cuts a stream that goes silent", async () => {
      const silentHeaders = await startScheduledServer(() => ({
        headersAtMs: 5000,
        writes: [],
        finish: "hang",
      }));
      onCleanup(silentHeaders.close);
      const p = await startProxy(silentHeaders.origin, { upstreamTimeoutMs: 300 });
      onCleanup(p.stop);
      const r = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(r.status, 504);
      assert.match(r.body.toString(), /headers_timeout/);
      const m = await scrape(p.adminUrl);
      // The status is the one the client got; no stream started, so none broke.
      assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "timeout", status: "504" }), 1);
      assert.doesNotMatch(m, /^streamslo_stream_breaks_total\{/m);

      const silentBody = await startScheduledServer(() => ({
        writes: [{ atMs: 0, data: chat.token("a") }],
        finish: "hang",
      }));
      onCleanup(silentBody.close);
      const q = await startProxy(silentBody.origin, { upstreamTimeoutMs: 300 });
      onCleanup(q.stop);
      const cut = await exchange(q.url + CHAT, { body: chatBody() });
      assert.equal(cut.complete, false, "the client sees the stream cut, not a clean end");
      // A stream that started and fell silent is a drop (as budget and the live gauges count it), its
      // cause a timeout; the rules' availability does not see it.
      await waitFor(
        async () =>
          metric(await scrape(q.adminUrl), PROXY_METRICS.requests, { outcome: "upstream_drop" }) === 1,
        3000,
      );
      const after = await scrape(q.adminUrl);
      assert.equal(metric(after, "streamslo_stream_breaks_total", { cause: "timeout" }), 1);
      assert.equal(metric(after, PROXY_METRICS.requests, { outcome: "timeout" }), 0);
    });

    it("survives malformed requests", async () => {
      const upstream = await startScheduledServer(() => ({ writes: evenStream(5, 1, 3) }));
      onCleanup(upstream.close);
      const p = await startProxy(upstream.origin);
      onCleanup(p.stop);

      const rng = seededRng(42);
      const garbage = [
        "\x00\x01\x02GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nnot hex\r\n\r\n",
        "BREW /pot HTCPCP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nbad header line\r\n\r\n",
        Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rng() * 256))).toString("latin1"),
      ];
      for (const g of garbage) {
        const { socket, reply } = await rawSocket(p.url);
        socket.end(Buffer.from(g, "latin1"));
        const text = await reply;
        assert.equal(statusOf(text), 400, `400 for ${JSON.stringify(g.slice(0, 30))}: ${text.slice(0, 60)}`);
      }
      // a socket that connects and vanishes, and one that resets mid-request
      const { socket: s1 } = await rawSocket(p.url);
      s1.destroy();
      const { socket: s2 } = await rawSocket(p.url);
      s2.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"mod');
      await sleep(20);
      s2.resetAndDestroy();

      const fine = await exchange(p.url + CHAT, { body: chatBody() });
      assert.equal(fine.status, 200);
      assert.ok(fine.complete);
      const health = await fetch(`${p.adminUrl}/healthz`);
      assert.equal(health.status, 200);
    });
  });

  it("holds a fast upstream back for a slow client, and loses no byte", async () => {
    // 40 MB: TCP buffers on the loopback path hold 8-10 MB on a busy machine, so an unheld upstream
    // would send everything while the client is paused, and a held one stops far short of it
    const total = 40 * 1024 * 1024;
    // 64 KB SSE events, each one big content token
    const piece = Buffer.from(`data: ${chat.token("x".repeat(64 * 1024 - 100))}\n\n`);
    const tail = Buffer.from(`data: ${chat.finish("length")}\n\ndata: [DONE]\n\n`);
    let sent = 0;
    let blockedSince: number | undefined;
    let maxBuffered = 0;
    const hash = createHash("sha256");
    const upstream = await startUpstream(async (req, res) => {
      await drainBody(req);
      res.writeHead(200, { "content-type": "text/event-stream" });
      while (sent < total && !res.destroyed) {
        const ok = res.write(piece);
        hash.update(piece);
        sent += piece.length;
        maxBuffered = Math.max(maxBuffered, res.socket?.writableLength ?? 0);
        if (!ok) {
          blockedSince = performance.now();
          await new Promise((r) => res.once("drain", r));
          blockedSince = undefined;
        }
      }
      hash.update(tail);
      sent += tail.length;
      res.end(tail);
    });
    const p = await startProxy(upstream);
    onCleanup(p.stop);

    let sentWhenPaused = 0;
    let sentMidPause = 0;
    let blockedForMs = 0;
    let received = 0;
    const r = await new Promise<{ status: number; body: Buffer; complete: boolean }>((resolve, reject) => {
      postChat(p.url, chatBody(), reject, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          parts.push(c);
          received += c.length;
        });
        // a client that reads nothing for 1.5 s, then everything
        res.pause();
        setTimeout(() => {
          sentMidPause = sent;
        }, 1000);
        setTimeout(() => {
          sentWhenPaused = sent;
          blockedForMs = blockedSince === undefined ? 0 : performance.now() - blockedSince;
          res.resume();
        }, 1500);
        res.on("close", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), complete: res.complete }),
        );
      });
    });
    assert.equal(r.status, 200);
    assert.ok(r.complete);
    assert.equal(received, sent);
    assert.equal(
      createHash("sha256").update(r.body).digest("hex"),
      hash.digest("hex"),
      "bytes relayed intact",
    );
    assert.ok(sent >= total);
    const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;
    // Unheld, loopback moves 40 MB in well under a second; held, the upstream stops once the TCP
    // buffers on the way are full, and waits on its write.
    assert.ok(blockedForMs > 400, `the upstream's write was blocked for ${blockedForMs.toFixed(0)} ms`);
    assert.ok(
      sentWhenPaused < 20 * 1024 * 1024,
      `while the client read nothing the upstream sent ${mb(sentWhenPaused)} of ${mb(total)}`,
    );
    assert.ok(
      sentWhenPaused - sentMidPause < 2 * 1024 * 1024,
      `stalled, not merely slowed: ${mb(sentMidPause)} -> ${mb(sentWhenPaused)}`,
    );
    assert.ok(maxBuffered <= 1024 * 1024, `upstream socket buffer stayed bounded: ${mb(maxBuffered)}`);
    const m = await scrape(p.adminUrl);
    assert.equal(metric(m, PROXY_METRICS.requests, { outcome: "ok" }), 1);
  });

  it("keeps each stream's bytes its own when a stalled client and a fast one share it", async () => {
    // The upstream pool reads every socket into one buffer: what waits to be written to a client
    // that does not read must not be overwritten by the next read of another stream.
    const total = 16 * 1024 * 1024;
    const sentHash = new Map<string, string>();
    const upstream = await startUpstream(async (req, res) => {
      const letter = String((JSON.parse((await drainBody(req)).toString()) as { user: string }).user);
      const piece = Buffer.from(`data: ${chat.token(letter.repeat(16 * 1024))}\n\n`);
      const hash = createHash("sha256");
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let sent = 0; sent < total && !res.destroyed; sent += piece.length) {
        hash.update(piece);
        if (!res.write(piece)) await new Promise((r) => res.once("drain", r));
      }
      const tail = `data: ${chat.finish("length")}\n\ndata: [DONE]\n\n`;
      hash.update(tail);
      res.end(tail);
      sentHash.set(letter, hash.digest("hex"));
    });
    const p = await startProxy(upstream);
    onCleanup(p.stop);
    const fetchStream = (letter: string, stallMs: number) =>
      new Promise<string>((resolve, reject) => {
        postChat(p.url, chatBody(16, { user: letter }), reject, (res) => {
          const hash = createHash("sha256");
          res.on("data", (c: Buffer) => hash.update(c));
          res.pause();
          setTimeout(() => res.resume(), stallMs);
          res.on("end", () => resolve(hash.digest("hex")));
        });
      });
    const [stalled, fast] = await Promise.all([fetchStream("a", 1500), fetchStream("b", 0)]);
    assert.equal(fast, sentHash.get("b"), "the fast client got its stream intact");
    assert.equal(stalled, sentHash.get("a"), "the stalled client got its stream intact");
  });

  it("logs one JSON line per request with its trace, and never a secret", async () => {
    const secret = "sk-secret-123";
    const sim = await startSimServer(simParams("fast", { apiKey: secret }));
    onCleanup(sim.close);
    const dir = tempDir();
    const logFile = join(dir, "proxy.log");
    const spans: ReadableSpan[] = [];
    const exporter: SpanExporter = {
      export(batch: ReadableSpan[], cb: (r: ExportResult) => void) {
        spans.push(...batch);
        cb({ code: ExportResultCode.SUCCESS });
      },
      shutdown: () => Promise.resolve(),
    };
    const p = await startProxy(sim.origin, {
      service: "chat-api",
      logFile,
      tracing: createTracing("chat-api", undefined, exporter),
    });
    onCleanup(p.stop);

    const auth = { authorization: `Bearer ${secret}`, "x-api-key": secret };
    for (let i = 0; i < 3; i++) {
      const r = await exchange(p.url + CHAT, { body: chatBody(8), headers: auth });
      assert.equal(r.status, 200, "the key reached the upstream");
      assert.ok(r.complete);
    }
    const denied = await exchange(p.url + CHAT, {
      body: chatBody(8),
      headers: { authorization: "Bearer wrong" },
    });
    assert.equal(denied.status, 401);
    // Not LLM requests: a 404 is the upstream's answer, not a fault of the service.
    assert.equal((await exchange(`${p.url}/v1/models`, { method: "GET", headers: auth })).status, 200);
    assert.equal((await exchange(`${p.url}/v1/nowhere`, { method: "GET", headers: auth })).status, 404);
    const text = await scrape(p.adminUrl);
    const om = await scrape(p.adminUrl, "application/openmetrics-text; version=1.0.0");
    // A Prometheus scrape (OpenMetrics) must not change what a plain-text scraper reads next, nor
    // what one reads while it runs.
    const [textAfter, omAgain] = await Promise.all([
      scrape(p.adminUrl),
      scrape(p.adminUrl, "application/openmetrics-text; version=1.0.0"),
    ]);
    await p.stop();
    assert.match(text, /^streamslo_requests_total\{[^}]*outcome="client_error",status="401"\} 1$/m);
    for (const t of [text, textAfter]) {
      assert.match(t, /^streamslo_requests_total\{/m);
      assert.doesNotMatch(t, /^streamslo_requests\{/m);
      assert.doesNotMatch(t, /# EOF/);
    }
    assert.match(omAgain, /^streamslo_requests_total\{/m);
    assert.match(omAgain, /# EOF\n$/);

    const lines = readFileSync(logFile, "utf8").trim().split("\n");
    assert.equal(lines.length, 6);
    const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const other = all.slice(4);
    assert.deepEqual(
      other.map((d) => [d.route, d.status, d.outcome, d.model]),
      [
        ["/v1/models", 200, "ok", "none"],
        ["other", 404, "ok", "none"],
      ],
    );
    const docs = all.slice(0, 4);
    for (const d of docs) {
      assert.match(String(d.trace_id), /^[0-9a-f]{32}$/);
      assert.match(String(d.span_id), /^[0-9a-f]{16}$/);
      assert.equal(d["service.name"], "chat-api");
      assert.equal(d.route, CHAT);
      assert.equal(d.model, "streamslo-sim");
    }
    const ok = docs.slice(0, 3);
    for (const d of ok) {
      assert.equal(d.outcome, "ok");
      assert.equal(d.status, 200);
      assert.equal(typeof d.ttft_ms, "number");
      assert.ok((d.ttft_ms as number) > 0 && (d.ttft_ms as number) <= (d.e2e_ms as number));
      assert.equal(d.output_tokens, 8);
    }
    // A wrong key is the caller's mistake: its own outcome, left out of every SLI.
    assert.equal(docs[3]?.outcome, "client_error");
    assert.equal(docs[3]?.status, 401);
    assert.equal(new Set(docs.map((d) => d.trace_id)).size, 4, "one trace per request");
    // exemplars point at the logged traces
    assert.match(om, /streamslo_ttft_seconds_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\}/);
    const exemplarIds = [...om.matchAll(/trace_id="([0-9a-f]{32})"/g)].map((x) => x[1]);
    for (const id of exemplarIds)
      assert.ok(
        ok.some((d) => d.trace_id === id),
        `exemplar ${id} is a logged trace`,
      );

    assert.equal(spans.length, 6);
    for (const s of spans) assert.equal(s.resource.attributes["service.name"], "chat-api");
    const failed = spans.filter((s) => s.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(failed, [], "a server span's 4xx is not an error (OpenTelemetry HTTP conventions)");
    const everything = [
      readFileSync(logFile, "utf8"),
      text,
      om,
      JSON.stringify(spans.map((s) => s.attributes)),
    ];
    for (const out of everything) {
      assert.ok(!out.includes(secret), "the API key leaked");
      assert.ok(!out.includes("Bearer"), "an Authorization header leaked");
    }
  });

  it("drains in-flight streams on stop() and refuses new work meanwhile", async () => {
    const upstream = await startScheduledServer(() => ({ writes: evenStream(100, 40, 30) })); // ~1.3 s
    onCleanup(upstream.close);
    const p = await startProxy(upstream.origin);
    onCleanup(p.stop);

    let firstByte = false;
    let streamEndedAt = 0;
    const long = exchange(p.url + CHAT, {
      body: chatBody(),
      onData: () => {
        firstByte = true;
      },
    }).then((r) => {
      streamEndedAt = performance.now();
      return r;
    });
    assert.ok(await waitFor(() => firstByte), "the stream started");
    // a client already connected, half-way through sending its request line
    const late = await rawSocket(p.url);
    late.socket.write(`POST ${CHAT} HTTP/1.1\r\n`);
    await sleep(20);

    let stoppedAt = 0;
    const stopped = p.stop().then(() => {
      stoppedAt = performance.now();
    });
    await sleep(100);
    const health = await fetch(`${p.adminUrl}/healthz`);
    assert.equal(health.status, 503, "healthz reports draining");
    assert.equal(await health.text(), "draining");

    const body = chatBody();
    late.socket.write(
      `host: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    assert.ok(await waitFor(() => late.sofar().includes("shutting down")), late.sofar());
    assert.equal(statusOf(late.sofar()), 503);
    assert.match(late.sofar(), /retry-after: 1/i);
    // a new connection is not served either: refused (the listener is closed), or answered 503
    const fresh = await exchange(p.url + CHAT, { body });
    assert.ok(
      fresh.status === 0 || fresh.status === 503,
      `new request during drain: ${fresh.status} ${fresh.error}`,
    );
    assert.equal(p.proxy.metrics.inFlight, 1, "all this while the stream was still in flight");

    const r = await long;
    await stopped;
    assert.equal(r.status, 200);
    assert.ok(r.complete, "the in-flight stream finished");
    assert.match(r.body.toString(), /data: \[DONE\]\n\n$/);
    assert.ok(stoppedAt >= streamEndedAt - 5, "stop() resolved after the stream ended");
    assert.equal(upstream.received.filter((x) => x.path === CHAT).length, 1, "nothing new went upstream");
  });

  it("at the drain deadline, cuts what is still streaming and counts it as a drop with its own cause", async () => {
    const upstream = await startScheduledServer(() => ({ writes: evenStream(50, 40, 200) })); // ~8 s
    onCleanup(upstream.close);
    const logFile = join(tempDir(), "proxy.log");
    const p = await startProxy(upstream.origin, { drainMs: 300, logFile });
    onCleanup(p.stop);
    let firstByte = false;
    const long = exchange(p.url + CHAT, {
      body: chatBody(),
      onData: () => {
        firstByte = true;
      },
    });
    assert.ok(await waitFor(() => firstByte), "the stream started");
    const stopped = p.stop();
    await sleep(100);
    // Refused meanwhile, and told to close the connection.
    const late = await exchange(p.url + CHAT, { body: chatBody() });
    if (late.status !== 0) {
      assert.equal(late.status, 503);
      assert.equal(late.headers.connection, "close");
    }
    const text = async () => (await p.proxy.metrics.exposition(undefined)).body;
    const r = await long;
    await stopped;
    assert.equal(r.complete, false, "the client sees a cut stream, not a whole one");
    const lines = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { outcome: string; error?: string; route: string });
    const cut = lines.filter((l) => l.error?.startsWith("drain_cut"));
    assert.equal(cut.length, 1, JSON.stringify(lines));
    assert.equal(cut[0]?.outcome, "upstream_drop", "a drop the drop SLI charges, not client_disconnect");
    assert.equal(lines.filter((l) => l.outcome === "client_disconnect").length, 0);
    assert.equal(metric(await text(), PROXY_METRICS.requests, { outcome: "upstream_drop" }), 1);
    const breaks = metric(await text(), "streamslo_stream_breaks_total", { cause: "drain_cut" });
    assert.equal(breaks, 1, "stream_breaks_total has the drain's own cause");
  });

  it("on stop(), a slow reader still gets the whole of its stream", async () => {
    // 8 MB the upstream would send at once, to a client that takes one socket read (<= 64 KB) every
    // 10 ms: the stream ends at the upstream while much of it still sits in buffers toward the client
    const piece = Buffer.from(`data: ${chat.token("y".repeat(32 * 1024))}\n\n`);
    const hash = createHash("sha256");
    let sent = 0;
    const upstream = await startUpstream(async (req, res) => {
      await drainBody(req);
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let i = 0; i < 256 && !res.destroyed; i++) {
        hash.update(piece);
        sent += piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once("drain", r));
      }
      const tail = `data: ${chat.finish("length")}\n\ndata: [DONE]\n\n`;
      hash.update(tail);
      sent += tail.length;
      res.end(tail);
    });
    const p = await startProxy(upstream);
    onCleanup(p.stop);

    const { socket, reply } = await rawSocket(p.url);
    onCleanup(async () => socket.destroy());
    const body = chatBody();
    let firstByte = false;
    socket.on("data", () => {
      firstByte = true;
      socket.pause();
      setTimeout(() => socket.resume(), 10);
    });
    socket.write(
      `POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    assert.ok(await waitFor(() => firstByte), "the stream started");
    assert.equal(p.proxy.metrics.inFlight, 1, "stop() comes mid-stream");
    await p.stop(); // closes the connection once drained
    const text = await reply;
    assert.equal(statusOf(text), 200);
    assert.match(text, /transfer-encoding: chunked/i);
    const received = dechunk(Buffer.from(text.slice(text.indexOf("\r\n\r\n") + 4), "latin1"));
    assert.equal(received.length, sent, "every byte arrived before the connection closed");
    assert.equal(sha256(received), hash.digest("hex"));
  });

  it("continues the caller's W3C trace upstream and in the log", async () => {
    const upstream = await startScheduledServer(() => ({ writes: evenStream(5, 1, 3) }));
    onCleanup(upstream.close);
    const dir = tempDir();
    const logFile = join(dir, "proxy.log");
    const p = await startProxy(upstream.origin, { logFile });
    onCleanup(p.stop);

    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentId = "00f067aa0ba902b7";
    const r = await exchange(p.url + CHAT, {
      body: chatBody(),
      headers: { traceparent: `00-${traceId}-${parentId}-01`, tracestate: "vendor=abc" },
    });
    assert.equal(r.status, 200);
    const plain = await exchange(p.url + CHAT, { body: chatBody() });
    assert.equal(plain.status, 200);
    await p.stop();

    const got = upstream.received.map((x) => String(x.headers.traceparent));
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(got[0] ?? "");
    assert.ok(m, `upstream traceparent: ${got[0]}`);
    assert.equal(m[1], traceId, "same trace");
    assert.notEqual(m[2], parentId, "the proxy's span is the new parent");
    assert.equal(upstream.received[0]?.headers.tracestate, "vendor=abc");
    const m2 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(got[1] ?? "");
    assert.ok(m2, `a request without traceparent starts a trace: ${got[1]}`);
    assert.notEqual(m2[1], traceId);

    const docs = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(docs.length, 2);
    assert.equal(docs[0]?.trace_id, traceId);
    assert.equal(docs[0]?.span_id, m[2], "the log's span is the one the upstream saw as parent");
    assert.equal(docs[1]?.trace_id, m2[1]);
    assert.equal(docs[1]?.span_id, m2[2]);
  });
});
