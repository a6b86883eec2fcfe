import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { exitWithParent } from "./emitter-lifetime.js";

/**
 * A fast emitter for capacity, proxy and memory benchmarks (run as its own process): every request
 * gets EMIT_TOKENS chunks shaped like vLLM's, the first EMIT_TTFT_MS after the request, then one
 * every EMIT_ITL_MS. With EMIT_ITL_MS=0 it sends as fast as the socket takes them, EMIT_BURST
 * chunks per write. Unlike the calibrated emitter it does nothing per chunk but copy a prepared
 * string, and one 1 ms tick serves every stream, so it can outrun the client it feeds.
 */
const tokens = Math.max(1, Number(process.env.EMIT_TOKENS ?? 64));
const itlMs = Number(process.env.EMIT_ITL_MS ?? 0);
const ttftMs = Number(process.env.EMIT_TTFT_MS ?? 0);
const burst = Math.max(1, Number(process.env.EMIT_BURST ?? 8));

const chunk = (finish: string | null) =>
  `data: ${JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "bench",
    choices: [{ index: 0, delta: { content: " token" }, logprobs: null, finish_reason: finish }],
  })}\n\n`;
const MIDDLE = chunk(null);
const LAST = `${chunk("length")}data: [DONE]\n\n`;

interface Stream {
  res: ServerResponse;
  /** When chunk 0 is due (performance.now() ms). */
  firstAt: number;
  sent: number;
  blocked: boolean;
}

const live = new Set<Stream>();
let scheduled = false;
let requests = 0;

function schedule(): void {
  if (scheduled || live.size === 0) return;
  scheduled = true;
  // Unpaced streams go again on the next turn of the loop; paced ones on the next 1 ms tick.
  if (itlMs === 0) setImmediate(tick);
  else setTimeout(tick, 1);
}

function tick(): void {
  scheduled = false;
  const now = performance.now();
  let writable = false;
  for (const s of live) {
    if (s.blocked || now < s.firstAt) {
      writable ||= !s.blocked;
      continue;
    }
    const due = itlMs > 0 ? Math.floor((now - s.firstAt) / itlMs) + 1 : s.sent + burst;
    const upTo = Math.min(tokens, due);
    if (upTo <= s.sent) {
      writable = true;
      continue;
    }
    const last = upTo === tokens;
    const out = MIDDLE.repeat(upTo - s.sent - (last ? 1 : 0)) + (last ? LAST : "");
    s.sent = upTo;
    if (last) {
      live.delete(s);
      s.res.end(out);
    } else if (s.res.write(out)) {
      writable = true;
    } else {
      // The client is not keeping up: wait for it rather than buffer without bound.
      s.blocked = true;
      s.res.once("drain", () => {
        s.blocked = false;
        schedule();
      });
    }
  }
  if (writable) schedule();
}

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url?.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" }).end('{"data":[{"id":"bench"}]}');
      return;
    }
    res.socket?.setNoDelay(true);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    // Paced streams start at well-spread phases (golden-ratio steps), so the first round of a
    // closed loop does not emit every stream's tokens in one tick.
    const phase = itlMs > 0 ? ((requests++ * 0.618034) % 1) * itlMs : 0;
    const s: Stream = { res, firstAt: performance.now() + ttftMs + phase, sent: 0, blocked: false };
    res.on("close", () => live.delete(s));
    live.add(s);
    schedule();
  });
});
exitWithParent();
server.keepAliveTimeout = 60_000;
server.maxRequestsPerSocket = 0;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
