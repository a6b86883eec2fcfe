import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { createBrotliCompress, createDeflate, createGzip } from "node:zlib";
import { assertCleanExit, assertRunInvariants, benchRun } from "../helpers/checked-run.js";
import { tempDir } from "../helpers/cli.js";
import { type Listening, listenOnLoopback } from "../helpers/loopback.js";
import { chat } from "../helpers/scheduled-server.js";

const TOKENS = 6;
const GAP_MS = 40;

interface Seen {
  path: string;
  headers: IncomingMessage["headers"];
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** Six tokens GAP_MS apart, then usage and [DONE], written through `wrap` (a compressor or the raw response). */
function stream(res: ServerResponse, encoding?: "gzip" | "deflate" | "br" | "zstd"): void {
  const headers: Record<string, string> = { "content-type": "text/event-stream" };
  if (encoding) headers["content-encoding"] = encoding;
  res.writeHead(200, headers);
  const z =
    encoding === "gzip"
      ? createGzip()
      : encoding === "deflate"
        ? createDeflate()
        : encoding === "br"
          ? createBrotliCompress()
          : undefined;
  z?.pipe(res);
  const out = z ?? res;
  const write = (payload: string) => {
    out.write(`data: ${payload}\n\n`);
    // Flush each event as its own compressed block, as a compressing gateway that streams does.
    z?.flush();
  };
  write(chat.role());
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    if (i < TOKENS) {
      write(chat.token(`t${i}`, i === TOKENS - 1 ? "stop" : null));
      i++;
      return;
    }
    clearInterval(timer);
    write(chat.usage(5, TOKENS));
    write("[DONE]");
    out.end();
  }, GAP_MS);
}

async function server(route: Route): Promise<Listening & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "GET" && req.url?.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model" }] }));
        return;
      }
      seen.push({ path: req.url ?? "", headers: req.headers });
      route(req, res);
    });
  });
  const l = await listenOnLoopback(s, () => s.closeAllConnections());
  return { ...l, seen };
}

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location, "content-type": "text/plain" });
  res.end("moved");
}

const SMALL = ["--model", "m", "-c", "1", "-n", "3", "--warmup", "0", "--baseline", "0", "-q"];

// biome-ignore lint/suspicious/noExplicitAny: records are read back untyped, as a user would.
type Rec = Record<string, any>;

describe("redirects", () => {
  let elsewhere: Awaited<ReturnType<typeof server>>;
  let moved: Awaited<ReturnType<typeof server>>;
  before(async () => {
    elsewhere = await server((_req, res) => stream(res));
    moved = await server((req, res) => {
      const p = req.url ?? "";
      if (p.startsWith("/v1/chat")) return redirect(res, 307, "/v2/chat/completions");
      if (p.startsWith("/v2/chat")) return stream(res);
      if (p.startsWith("/perm/")) return redirect(res, 308, `${elsewhere.origin}/v1/chat/completions`);
      if (p.startsWith("/old/")) return redirect(res, 301, "/v1/chat/completions");
      if (p.startsWith("/see/")) return redirect(res, 303, "/v1/chat/completions");
      if (p.startsWith("/loop/")) return redirect(res, 307, p);
      res.writeHead(404).end();
    });
  });
  after(async () => {
    await moved.close();
    await elsewhere.close();
  });

  it("follows a 307 with the same method and body, records the hop, and says once which --url to give", async () => {
    const run = await benchRun(["--url", moved.url, ...SMALL], tempDir());
    assertCleanExit(run, 0);
    assertRunInvariants(run);
    const recs = run.records as Rec[];
    assert.equal(recs.filter((r) => r.outcome === "ok").length, 3, JSON.stringify(recs[0]));
    for (const r of recs) {
      assert.deepEqual(r.redirects, [{ status: 307, to: `${moved.origin}/v2/chat/completions` }]);
      assert.equal(r.outputTokens, TOKENS);
    }
    const hops = moved.seen.filter((s) => s.path.startsWith("/v2/"));
    assert.equal(hops.length, 3);
    const notes = run.stderr.split("\n").filter((l) => l.includes("redirects"));
    assert.equal(notes.length, 1, run.stderr);
    assert.match(notes[0] ?? "", new RegExp(`give --url ${moved.origin}/v2/chat/completions`));
  });

  it("follows a 308 to another origin without the API key", async () => {
    const run = await benchRun(["--url", `${moved.origin}/perm/chat/completions`, ...SMALL], tempDir(), {
      OPENAI_API_KEY: "sk-secret-key-1234",
    });
    assertCleanExit(run, 0);
    assert.equal((run.records as Rec[]).filter((r) => r.outcome === "ok").length, 3);
    assert.equal(moved.seen.at(-1)?.headers.authorization, "Bearer sk-secret-key-1234");
    assert.equal(elsewhere.seen.length, 3);
    for (const s of elsewhere.seen) assert.equal(s.headers.authorization, undefined);
  });

  for (const [path, status] of [
    ["/old/chat/completions", 301],
    ["/see/chat/completions", 303],
  ] as const) {
    it(`does not follow a ${status} to a POST: a clear error naming the Location, exit 3`, async () => {
      const run = await benchRun(["--url", `${moved.origin}${path}`, ...SMALL], tempDir());
      assertCleanExit(run, 3);
      const r = (run.records as Rec[])[0];
      assert.equal(r?.error?.code, `http_${status}`);
      assert.match(
        r?.error?.message,
        new RegExp(
          `^HTTP ${status}: redirects to ${moved.origin}/v1/chat/completions, which a POST does not follow`,
        ),
      );
      assert.match(run.stderr, new RegExp(`give --url ${moved.origin}/v1/chat/completions instead`));
    });
  }

  it("stops a redirect loop after 5 hops", async () => {
    const asks = () => moved.seen.filter((x) => x.path.includes("/chat/")).length;
    const before = asks();
    const run = await benchRun(["--url", `${moved.origin}/loop/chat/completions`, ...SMALL], tempDir());
    assertCleanExit(run, 3);
    const r = (run.records as Rec[])[0];
    assert.equal(r?.error?.code, "http_307");
    assert.match(r?.error?.message, /more than 5 redirects/);
    assert.equal(r?.redirects.length, 5);
    const sent = (run.records as Rec[]).length;
    assert.equal(asks() - before, sent * 6, `${sent} requests, each the first ask and 5 hops`);
  });
});

describe("compressed bodies", () => {
  let s: Awaited<ReturnType<typeof server>>;
  before(async () => {
    s = await server((req, res) => {
      const enc = /\/(gzip|deflate|br|zstd)\//.exec(req.url ?? "")?.[1] as "gzip" | undefined;
      stream(res, enc);
    });
  });
  after(() => s.close());

  it("asks for identity", async () => {
    const run = await benchRun(["--url", `${s.origin}/plain/v1/chat/completions`, ...SMALL], tempDir());
    assertCleanExit(run, 0);
    assert.equal(s.seen.at(-1)?.headers["accept-encoding"], "identity");
  });

  for (const enc of ["gzip", "deflate", "br"]) {
    it(`decodes a ${enc} stream, timing each token as its compressed bytes arrive`, async () => {
      const run = await benchRun(["--url", `${s.origin}/${enc}/v1/chat/completions`, ...SMALL], tempDir());
      assertCleanExit(run, 0);
      assertRunInvariants(run);
      for (const r of run.records as Rec[]) {
        assert.equal(r.outcome, "ok", JSON.stringify(r.error));
        assert.equal(r.outputTokens, TOKENS);
        assert.equal(r.chunkTimesMs.length, TOKENS, "one chunk per token, not one decoded lump");
        const gaps = r.chunkTimesMs.slice(1).map((t: number, i: number) => t - r.chunkTimesMs[i]);
        const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
        assert.ok(
          median > GAP_MS / 2 && median < GAP_MS * 3,
          `gaps ${gaps.map((g: number) => g.toFixed(1))}`,
        );
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: raw gzip bytes are what must not show.
      assert.doesNotMatch(run.stdout + run.stderr, /[\x00-\x08\x0e-\x1f]/, "no raw bytes on the terminal");
    });
  }

  it("an encoding it cannot decode is bad_encoding, named, exit 3", async () => {
    const run = await benchRun(["--url", `${s.origin}/zstd/v1/chat/completions`, ...SMALL], tempDir());
    assertCleanExit(run, 3);
    const r = (run.records as Rec[])[0];
    assert.equal(r?.error?.code, "bad_encoding");
    assert.match(r?.error?.message, /Content-Encoding zstd/);
  });
});
