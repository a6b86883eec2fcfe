import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { listenOnLoopback } from "./loopback.js";

/** One write, `atMs` after the request arrived: an SSE data payload, or exact raw bytes. */
export interface ScheduledWrite {
  atMs: number;
  data?: string;
  raw?: string;
}

export interface Schedule {
  status?: number;
  headers?: Record<string, string>;
  writes: ScheduledWrite[];
  /** Line ending used to frame `data` writes. */
  eol?: "\n" | "\r\n" | "\r";
  /** Split each framed write in two halves sent 2 ms apart (lines cut mid-way). */
  split?: boolean;
  /** What happens after the last write: clean end, connection reset, or silence. */
  finish?: "end" | "destroy" | "hang";
  /** Delay before the status line and headers. */
  headersAtMs?: number;
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface ScheduledServer {
  url: string;
  origin: string;
  /** The requests received, bodies parsed as JSON where possible. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback server that answers every request on an exact, pre-set timetable: the test bed for
 * measured-vs-emitted timing and for each way a stream can fail.
 */
export async function startScheduledServer(
  schedule: (req: IncomingMessage) => Schedule,
): Promise<ScheduledServer> {
  const received: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const at = (t0: number, ms: number, fn: () => void) => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        fn();
      },
      Math.max(0, t0 + ms - performance.now()),
    );
    timers.add(timer);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      received.push({ path: req.url ?? "", headers: req.headers, body });
      const s = schedule(req);
      const eol = s.eol ?? "\n";
      const start = () => {
        res.writeHead(s.status ?? 200, s.headers ?? { "content-type": "text/event-stream" });
        res.flushHeaders();
      };
      // Pieces go out strictly in order, each no earlier than its time, from one timer chain.
      const pieces: { at: number; bytes: string }[] = [];
      let clock = s.headersAtMs ?? 0;
      for (const w of s.writes) {
        const frame = w.raw ?? `data: ${w.data}${eol}${eol}`;
        clock = Math.max(clock, w.atMs);
        if (s.split && frame.length > 1) {
          const mid = Math.floor(frame.length / 2);
          pieces.push({ at: clock, bytes: frame.slice(0, mid) });
          clock += 2;
          pieces.push({ at: clock, bytes: frame.slice(mid) });
        } else {
          pieces.push({ at: clock, bytes: frame });
        }
      }
      const finish = s.finish ?? "end";
      const next = (i: number) => {
        if (res.destroyed) return;
        const piece = pieces[i];
        if (!piece) {
          if (finish === "end") res.end();
          else if (finish === "destroy") res.destroy();
          return;
        }
        at(t0, piece.at, () => {
          res.write(piece.bytes);
          next(i + 1);
        });
      };
      at(t0, s.headersAtMs ?? 0, () => {
        start();
        next(0);
      });
    });
  });
  const listening = await listenOnLoopback(server, () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
  });
  return { ...listening, received };
}

/** The answer to GET /v1/models: a list holding one model. */
export function modelList(id: string): Schedule {
  return {
    headers: { "content-type": "application/json" },
    writes: [{ atMs: 0, raw: JSON.stringify({ object: "list", data: [{ id }] }) }],
  };
}

/** The shortest whole answer: one token that finishes the stream, then [DONE]. */
export function oneTokenAnswer(): Schedule {
  return {
    writes: [
      { atMs: 1, data: chat.token("x", "stop") },
      { atMs: 2, data: "[DONE]" },
    ],
  };
}

/** OpenAI chat chunk payloads. */
export const chat = {
  role: () =>
    JSON.stringify({
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
    }),
  token: (text: string, finish: string | null = null, tokens?: number) =>
    JSON.stringify({
      choices: [
        {
          index: 0,
          delta: { content: text },
          logprobs: tokens ? { content: Array.from({ length: tokens }, () => ({ logprob: 0 })) } : null,
          finish_reason: finish,
        },
      ],
    }),
  finish: (reason = "stop") => JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: reason }] }),
  usage: (prompt: number, completion: number) =>
    JSON.stringify({
      choices: [],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    }),
};

/** A stream: role chunk at 0, first token at ttftMs, then one token every itlMs, then usage and [DONE]. */
export function evenStream(ttftMs: number, itlMs: number, tokens: number): ScheduledWrite[] {
  const writes: ScheduledWrite[] = [{ atMs: 0, data: chat.role() }];
  for (let i = 0; i < tokens; i++) {
    writes.push({ atMs: ttftMs + i * itlMs, data: chat.token(` t${i}`, i === tokens - 1 ? "length" : null) });
  }
  const end = ttftMs + (tokens - 1) * itlMs;
  writes.push({ atMs: end, data: chat.usage(10, tokens) }, { atMs: end, data: "[DONE]" });
  return writes;
}
