import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { exitWithParent } from "./emitter-lifetime.js";

/**
 * A calibrated emitter: a minimal loopback server (run as its own process) that streams
 * `tokens` vLLM-shaped chunks per request, the first after `ttftMs`, then one every `itlMs`.
 * It notes the wall-clock time (performance.timeOrigin + now, in ms) at which it wrote each chunk,
 * keyed by the `user` field of the request body; `GET /emissions` hands the notes over (and
 * forgets them), so the client under test runs its ordinary path and keeps no text.
 */
const ttftMs = Number(process.env.EMIT_TTFT_MS ?? 50);
const itlMs = Number(process.env.EMIT_ITL_MS ?? 20);
const tokens = Number(process.env.EMIT_TOKENS ?? 20);
const abs = () => performance.timeOrigin + performance.now();
/** EMIT_STAGGER=1 spreads streams' token times across the ITL; 0 makes every stream emit in the same tick. */
const stagger = process.env.EMIT_STAGGER === "1";
const prefix = 'data: {"id":"cmpl-bench","object":"chat.completion.chunk","choices":[{"index":0,"delta":';
const TOKEN = `${prefix}{"content":" token"},"finish_reason":null}]}\n\n`;
const LAST = `${prefix}{"content":" end"},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n`;
let requests = 0;
let emissions: Record<string, number[]> = {};

function stream(res: ServerResponse, id: string | undefined): void {
  res.socket?.setNoDelay(true);
  // The head goes out now, as vLLM's does (its response starts before the first token). Sent
  // with the first token instead, it made every first read also parse a head, and at 256 streams
  // those heavier reads came in bursts.
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.flushHeaders();
  const times: number[] = [];
  if (id !== undefined) emissions[id] = times;
  let i = 0;
  // A fixed, well-spread phase per request (golden-ratio steps), so runs repeat exactly.
  const phase = stagger ? ((requests++ * 0.618034) % 1) * itlMs : 0;
  const t0 = performance.now() + phase;
  const next = () => {
    if (res.destroyed) return;
    const last = i === tokens - 1;
    times.push(abs());
    if (last) {
      res.end(LAST); // end() flushes a corked socket itself
      return;
    }
    res.write(TOKEN);
    // http corks the socket until the end of the tick: the chunk goes now, right after its time
    // was taken, so nothing (here: the client under test being scheduled) can come in between.
    res.socket?.uncork();
    i++;
    setTimeout(next, Math.max(0, t0 + ttftMs + i * itlMs - performance.now()));
  };
  setTimeout(next, ttftMs + phase);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (req.method === "GET" && req.url === "/emissions") {
    res.end(JSON.stringify(emissions));
    emissions = {};
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (d: string) => {
    body += d;
  });
  req.on("end", () => {
    let id: string | undefined;
    try {
      id = (JSON.parse(body) as { user?: string }).user;
    } catch {}
    stream(res, id);
  });
});
exitWithParent();
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
