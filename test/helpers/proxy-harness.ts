import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { createRng } from "../../src/core/rng.js";
import { type ProxyOptions, StreamsloProxy } from "../../src/proxy/proxy-server.js";
import { tempDir } from "./cli.js";

export interface StartedProxy {
  proxy: StreamsloProxy;
  /** http://127.0.0.1:port of the proxy listener. */
  url: string;
  adminUrl: string;
  /** Idempotent: safe to call from a test and again from `after`. */
  stop(): Promise<void>;
}

/**
 * Starts a StreamsloProxy on loopback, port 0 for both listeners, with test-sized defaults; the
 * request log goes to a temp file (not the test runner's stdout) unless `logFile` is given.
 */
export async function startProxy(upstream: string, o: Partial<ProxyOptions> = {}): Promise<StartedProxy> {
  const proxy = new StreamsloProxy({
    upstream,
    host: "127.0.0.1",
    port: 0,
    adminHost: "127.0.0.1",
    adminPort: 0,
    service: "proxy-test",
    models: ["streamslo-sim"],
    maxStreams: 256,
    upstreamTimeoutMs: 10_000,
    maxHeaderBytes: 16 * 1024,
    maxBodyBytes: 1024 * 1024,
    drainMs: 10_000,
    logFile: join(tempDir(), "proxy.log"),
    ...o,
  });
  const { url, adminUrl } = await proxy.start();
  let stopping: Promise<void> | undefined;
  return {
    proxy,
    url,
    adminUrl,
    stop: () => {
      stopping ??= proxy.stop();
      return stopping;
    },
  };
}

export function sha256(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Seeded random numbers (the product's own generator), so every "random" payload repeats exactly. */
export const seededRng = createRng;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last verdict. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

export interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body ended with its proper terminator (res.complete); false when the connection broke. */
  complete: boolean;
  /** A transport error on the request or response, if any. */
  error?: string;
}

export interface ExchangeOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
  /** Called with each body chunk as it arrives, with a receive timestamp (performance.now()). */
  onData?: (chunk: Buffer) => void;
}

/** One HTTP/1.1 exchange over its own connection (no agent pooling): what a client really got. */
export function exchange(url: string, o: ExchangeOptions = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (x: Exchange) => {
      if (!settled) {
        settled = true;
        resolve(x);
      }
    };
    const req = httpRequest(url, {
      method: o.method ?? "POST",
      headers: {
        ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
        ...o.headers,
      },
      agent: false,
      signal: o.signal,
    });
    req.on("error", (e) =>
      done({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false, error: e.message }),
    );
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      let error: string | undefined;
      res.on("data", (c: Buffer) => {
        parts.push(c);
        o.onData?.(c);
      });
      res.on("error", (e) => {
        error = e.message;
      });
      res.on("close", () =>
        done({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts),
          complete: res.complete && error === undefined,
          error,
        }),
      );
    });
    req.end(o.body);
  });
}

/** A streamed chat request body for the simulator (or any OpenAI-compatible server). */
export function chatBody(maxTokens = 16, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: "streamslo-sim",
    messages: [{ role: "user", content: "hello there" }],
    stream: true,
    max_tokens: maxTokens,
    ignore_eos: true,
    ...extra,
  });
}

export async function scrape(adminUrl: string, accept?: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`, { headers: accept ? { accept } : {} });
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  return res.text();
}
