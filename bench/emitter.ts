import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { exitWithParent } from "./emitter-lifetime.js";

/**
 * A calibrated emitter: a minimal loopback server (run as its own process) that streams
 * `tokens` chunks per request, the first after `ttftMs`, then one every `itlMs`. Each chunk's
 * content is the wall-clock time (performance.timeOrigin + now, in ms) at which it was written,
 * so the client can compare every arrival with its emission across processes.
 */
const ttftMs = Number(process.env.EMIT_TTFT_MS ?? 50);
const itlMs = Number(process.env.EMIT_ITL_MS ?? 20);
const tokens = Number(process.env.EMIT_TOKENS ?? 20);
const abs = () => performance.timeOrigin + performance.now();
/** EMIT_STAGGER=1 spreads streams' token times across the ITL; 0 makes every stream emit in the same tick. */
const stagger = process.env.EMIT_STAGGER === "1";
let requests = 0;

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.socket?.setNoDelay(true);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = 0;
    // A fixed, well-spread phase per request (golden-ratio steps), so runs repeat exactly.
    const phase = stagger ? ((requests++ * 0.618034) % 1) * itlMs : 0;
    const t0 = performance.now() + phase;
    const next = () => {
      if (res.destroyed) return;
      const last = i === tokens - 1;
      const chunk = {
        choices: [{ delta: { content: `${abs().toFixed(3)};` }, finish_reason: last ? "length" : null }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (last) {
        res.end("data: [DONE]\n\n");
        return;
      }
      i++;
      setTimeout(next, Math.max(0, t0 + ttftMs + i * itlMs - performance.now()));
    };
    setTimeout(next, ttftMs + phase);
  });
});
exitWithParent();
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
