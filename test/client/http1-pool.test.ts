import assert from "node:assert/strict";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { Agent, type Dispatcher } from "undici";
import { Clock } from "../../src/client/clock.js";
import { originPool } from "../../src/client/dispatcher.js";
import { resolveEndpoint } from "../../src/client/endpoint.js";
import { type SendOptions, sendGeneration } from "../../src/client/generation-client.js";
import { Http1Pool } from "../../src/client/http1-pool.js";
import { listenOnLoopback } from "../helpers/loopback.js";
import { chat } from "../helpers/scheduled-server.js";

const STREAM = [chat.role(), chat.token("a"), chat.token("b", "stop"), "[DONE]"].map((d) => `data: ${d}\n\n`);

/**
 * A real HTTP server answering every POST with a short SSE stream, unless `answer` answers itself
 * (returns true); counts its connections.
 */
async function sseServer(answer: (res: ServerResponse, path: string) => boolean | undefined = () => false) {
  let connections = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "text/event-stream");
      if (answer(res, req.url ?? "")) return;
      for (const e of STREAM) res.write(e);
      res.end();
    });
  });
  server.on("connection", () => connections++);
  const l = await listenOnLoopback(server, () => server.closeAllConnections());
  return { ...l, connections: () => connections };
}

/** STREAM as one Content-Length response, kept alive unless `headers` says otherwise. */
function sized(headers = ""): string {
  const body = STREAM.join("");
  return `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${body.length}\r\n${headers}\r\n${body}`;
}

/** A raw TCP server on loopback; `sockets` holds every connection it took, closed with it. */
async function rawServer(onSocket: (socket: Socket) => void, allowHalfOpen = false) {
  const sockets: Socket[] = [];
  const server = createNetServer({ allowHalfOpen }, (socket: Socket) => {
    sockets.push(socket);
    onSocket(socket);
  });
  const l = await listenOnLoopback(server, () => {
    for (const s of sockets) s.destroy();
  });
  return { ...l, sockets };
}

/** Runs `use` with a pool on `server`, then closes both, whatever `use` did. */
async function withPool(
  server: { origin: string; close(): Promise<unknown> },
  use: (pool: Http1Pool) => Promise<void>,
): Promise<void> {
  const pool = new Http1Pool(server.origin);
  try {
    await use(pool);
  } finally {
    await pool.close();
    await server.close();
  }
}

function options(url: string, extra: Partial<SendOptions> = {}): SendOptions {
  return {
    endpoint: resolveEndpoint(url, "chat"),
    stream: true,
    headersTimeoutMs: 5000,
    bodyTimeoutMs: 5000,
    ...extra,
  };
}

const meta = (id: string) => ({ id, scenario: "t", phase: "measure" as const, intendedStartMs: 0 });

/** Dispatches straight to `pool` (as the proxy does) and gathers what the handler sees. */
function dispatchRaw(
  pool: Http1Pool,
  opts: Partial<Dispatcher.DispatchOptions>,
  onData: (c: Dispatcher.DispatchController, chunk: Buffer) => void = () => undefined,
): Promise<{ status: number; body: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    let status = 0;
    const parts: Buffer[] = [];
    pool.dispatch({ origin: "http://x", path: "/", method: "POST", ...opts } as Dispatcher.DispatchOptions, {
      onResponseStart: (_c, code) => {
        status = code;
      },
      onResponseData: (c, chunk) => {
        parts.push(Buffer.from(chunk));
        onData(c, chunk);
      },
      onResponseEnd: () => resolve({ status, body: Buffer.concat(parts) }),
      onResponseError: (_c, error) => resolve({ status, body: Buffer.concat(parts), error }),
    });
  });
}

const clock = new Clock();

describe("Http1Pool", { timeout: 30_000 }, () => {
  it("keeps a connection alive across requests, and opens another when the server closes it", async () => {
    const s = await sseServer((res, path) => {
      if (path.includes("close=1")) res.setHeader("connection", "close");
      return false;
    });
    await withPool(s, async (pool) => {
      for (let i = 0; i < 3; i++) {
        const rec = await sendGeneration(pool, clock, options(s.url), "{}", meta(`k${i}`));
        assert.equal(rec.outcome, "ok", JSON.stringify(rec.error));
        assert.equal(rec.outputTokens, 2);
      }
      assert.equal(s.connections(), 1, "three requests, one connection");
      const closing = await sendGeneration(pool, clock, options(`${s.url}?close=1`), "{}", meta("c"));
      assert.equal(closing.outcome, "ok");
      const after = await sendGeneration(pool, clock, options(s.url), "{}", meta("a"));
      assert.equal(after.outcome, "ok");
      assert.equal(s.connections(), 2, "a new connection after Connection: close");
      // Concurrent requests each get a connection of their own.
      const many = await Promise.all(
        Array.from({ length: 8 }, (_, i) => sendGeneration(pool, clock, options(s.url), "{}", meta(`m${i}`))),
      );
      assert.ok(many.every((r) => r.outcome === "ok"));
      assert.equal(s.connections(), 9);
    });
  });

  it("a pooled connection the server closed while idle is not used again", async () => {
    // One response per connection, then it hangs up 50 ms later (no Keep-Alive hint).
    const l = await rawServer((socket) =>
      socket.once("data", () => {
        socket.write(sized());
        setTimeout(() => socket.end(), 50);
      }),
    );
    await withPool(l, async (pool) => {
      for (let i = 0; i < 3; i++) {
        const rec = await sendGeneration(pool, clock, options(l.url), "{}", meta(`i${i}`));
        assert.equal(rec.outcome, "ok", JSON.stringify(rec.error));
        await new Promise((r) => setTimeout(r, 150));
      }
      assert.equal(l.sockets.length, 3);
    });
  });

  it("a server that closes after each stream despite Keep-Alive (as llama.cpp's does) costs no request", async () => {
    const l = await rawServer((socket) =>
      socket.once("data", () => {
        socket.write(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nkeep-alive: timeout=5, max=100\r\n\r\n",
        );
        for (const e of STREAM) socket.write(`${Buffer.byteLength(e).toString(16)}\r\n${e}\r\n`);
        socket.end("0\r\n\r\n"); // the FIN goes with the last chunk
      }),
    );
    await withPool(l, async (pool) => {
      for (let i = 0; i < 5; i++) {
        const rec = await sendGeneration(pool, clock, options(l.url), "{}", meta(`l${i}`));
        assert.equal(rec.outcome, "ok", `request ${i}: ${JSON.stringify(rec.error)}`);
      }
      // One request may meet the first connection closing and go again; after that each has its own.
      const connections = l.sockets.length;
      assert.ok(connections === 5 || connections === 6, `${connections} connections`);
    });
  });

  it("a request that meets a kept-alive connection closing, unanswered, goes again once on a new one", async () => {
    const perConnection: number[] = [];
    // Answers the first request on each connection; hangs up on the second without a byte.
    const l = await rawServer((socket) => {
      const index = perConnection.push(0) - 1;
      socket.on("data", () => {
        perConnection[index] = (perConnection[index] ?? 0) + 1;
        if (perConnection[index] > 1) socket.destroy();
        else socket.write(sized());
      });
    });
    await withPool(l, async (pool) => {
      const first = await sendGeneration(pool, clock, options(l.url), "{}", meta("r1"));
      assert.equal(first.outcome, "ok");
      const second = await sendGeneration(pool, clock, options(l.url), "{}", meta("r2"));
      assert.equal(second.outcome, "ok", JSON.stringify(second.error));
      assert.deepEqual(perConnection, [2, 1], "sent on the kept connection, then once on a new one");
      // A server that closes right after answering: later requests no longer try a kept connection.
      const third = await sendGeneration(pool, clock, options(l.url), "{}", meta("r3"));
      assert.equal(third.outcome, "ok");
      assert.deepEqual(perConnection, [2, 1, 1]);
    });
  });

  it("does not wait on a server that never closes: after Connection: close, or an idle spell", async () => {
    // allowHalfOpen: when the client ends, this side stays open.
    const l = await rawServer(
      (socket) =>
        socket.on("data", (d) =>
          socket.write(sized(d.toString().includes("close=1") ? "connection: close\r\n" : "")),
        ),
      true,
    );
    const pool = new Http1Pool(l.origin, 100);
    try {
      const idle = await sendGeneration(pool, clock, options(l.url), "{}", meta("i"));
      assert.equal(idle.outcome, "ok");
      await new Promise((r) => setTimeout(r, 200)); // past the 100 ms keep-alive
      const after = await sendGeneration(pool, clock, options(l.url), "{}", meta("a"));
      assert.equal(after.outcome, "ok", JSON.stringify(after.error));
      const closing = await sendGeneration(pool, clock, options(`${l.url}?close=1`), "{}", meta("c"));
      assert.equal(closing.outcome, "ok");
      assert.equal(l.sockets.length, 2);
      const closed = pool.close().then(() => true);
      const late = new Promise<boolean>((r) => setTimeout(() => r(false), 1500).unref());
      assert.ok(await Promise.race([closed, late]), "close() did not wait on the server");
    } finally {
      await l.close();
    }
  });

  it("takes a body timeout as silence, not as the length of the stream", async () => {
    const s = await sseServer((res) => {
      let i = 0;
      const t = setInterval(() => {
        if (i++ < 12) return res.write(`data: ${chat.token("x")}\n\n`);
        clearInterval(t);
        res.end(`data: ${chat.token("y", "stop")}\n\ndata: [DONE]\n\n`);
      }, 50);
      res.on("close", () => clearInterval(t));
      return true;
    });
    await withPool(s, async (pool) => {
      const rec = await sendGeneration(
        pool,
        clock,
        options(s.url, { bodyTimeoutMs: 200 }),
        "{}",
        meta("slow"),
      );
      assert.equal(rec.outcome, "ok", JSON.stringify(rec.error));
      assert.equal(rec.outputTokens, 13);
    });
  });

  it("an abort cuts the stream and its connection; the pool goes on", async () => {
    let closed = 0;
    const s = await sseServer((res, path) => {
      if (!path.includes("hang=1")) return false;
      res.write(`data: ${chat.token("a")}\n\n`);
      res.on("close", () => closed++);
      return true;
    });
    await withPool(s, async (pool) => {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 100);
      const rec = await sendGeneration(
        pool,
        clock,
        options(`${s.url}?hang=1`, { signal: ctl.signal }),
        "{}",
        meta("x"),
      );
      assert.equal(rec.error?.code, "aborted");
      assert.equal(rec.chunkTimesMs.length, 1, "the token before the abort is kept");
      const deadline = Date.now() + 5000;
      while (closed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(closed, 1, "the server saw the connection go");
      const next = await sendGeneration(pool, clock, options(s.url), "{}", meta("y"));
      assert.equal(next.outcome, "ok");
    });
  });

  it("refuses a header value with a line break instead of sending it", async () => {
    const s = await sseServer();
    await withPool(s, async (pool) => {
      const rec = await sendGeneration(
        pool,
        clock,
        options(s.url, { apiKey: "sk-1\r\nx-evil: 1" }),
        "{}",
        meta("h"),
      );
      assert.equal(rec.outcome, "error");
      assert.equal(rec.error?.code, "client_error");
      assert.match(rec.error?.message ?? "", /invalid authorization header value/);
      assert.equal(s.connections(), 0, "nothing was sent");
    });
  });

  it("sends a byte body as it is, and a repeated header as one line per value", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0d, 0x0a, 0x80, 0x41]);
    const server = createHttpServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const multi = req.rawHeaders.filter((_, i) => req.rawHeaders[i - 1]?.toLowerCase() === "x-multi");
        res.end(JSON.stringify({ body: Buffer.concat(parts).toString("base64"), multi }));
      });
    });
    const l = await listenOnLoopback(server, () => server.closeAllConnections());
    await withPool(l, async (pool) => {
      const r = await dispatchRaw(pool, { body: bytes, headers: { "x-multi": ["one", "two"] } });
      assert.equal(r.error, undefined);
      const echo = JSON.parse(r.body.toString()) as { body: string; multi: string[] };
      assert.deepEqual(Buffer.from(echo.body, "base64"), bytes);
      assert.deepEqual(echo.multi, ["one", "two"]);
    });
  });

  it("reads nothing while paused, and a pause is no body timeout", async () => {
    const s = await sseServer((res) => {
      res.write(`data: ${chat.token("first")}\n\n`);
      const t = setTimeout(() => res.end(`data: ${chat.token("rest", "stop")}\n\ndata: [DONE]\n\n`), 100);
      res.on("close", () => clearTimeout(t));
      return true;
    });
    await withPool(s, async (pool) => {
      let paused = false;
      let readWhilePaused = 0;
      const r = await dispatchRaw(pool, { body: "{}", bodyTimeout: 200, headersTimeout: 5000 }, (c) => {
        if (paused) readWhilePaused++;
        else if (readWhilePaused === 0) {
          paused = true;
          c.pause();
          setTimeout(() => {
            paused = false;
            c.resume();
          }, 700);
        }
      });
      assert.equal(r.error, undefined, "no body timeout while paused");
      assert.equal(readWhilePaused, 0);
      assert.match(r.body.toString(), /first[\s\S]*rest[\s\S]*\[DONE\]/);
      const next = await dispatchRaw(pool, { body: "{}" });
      assert.equal(next.status, 200, "the connection reads again for the next request");
    });
  });

  it("after close(), a request fails at once", async () => {
    const pool = new Http1Pool("http://127.0.0.1:9");
    await pool.close();
    const rec = await sendGeneration(pool, clock, options("http://127.0.0.1:9/v1"), "{}", meta("z"));
    assert.equal(rec.outcome, "error");
    assert.match(rec.error?.message ?? "", /closed/);
  });

  it("is used for http, and undici for https", async () => {
    assert.ok(originPool("http://127.0.0.1:8000") instanceof Http1Pool);
    const tls = originPool("https://api.example.com");
    assert.ok(tls instanceof Agent);
    await tls.close();
  });
});
