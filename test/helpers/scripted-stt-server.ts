import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { WebSocketServer } from "ws";
import type { SttAdapterName } from "../../src/core/speech/speech-record.js";

/** When the scripted server answers, relative to the first audio frame it received (ms). */
export interface SttScript {
  partials: { atMs: number; text: string }[];
  /** The final result, this long after the end-of-audio message. */
  finalAfterEndMs: number;
  finalText: string;
  /** Close the socket abruptly (no close frame) after this many audio frames. */
  dropAfterFrames?: number;
  /** WhisperLive only: answer the options with WAIT (server full). */
  busy?: boolean;
}

export interface Seen {
  firstText?: string;
  audioBytes: number;
  frames: number;
  endMessage?: string;
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
}

/**
 * A loopback STT server that speaks one adapter's protocol exactly and answers on a fixed
 * schedule, so the client's measurements can be checked against known times.
 */
export async function startScriptedStt(adapter: SttAdapterName, script: SttScript) {
  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const seen: Seen = { audioBytes: 0, frames: 0, headers: {}, query: new URLSearchParams() };
  wss.on("connection", (ws, req) => {
    seen.headers = req.headers;
    seen.query = new URL(req.url ?? "/", "http://x").searchParams;
    let t0: number | undefined;
    const timers: NodeJS.Timeout[] = [];
    const send = (m: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
    const segment = (text: string, completed: boolean) => ({
      uid: "u",
      segments: [{ start: "0.000", end: "1.000", text, completed }],
    });
    const partial = (text: string) =>
      adapter === "vosk"
        ? send({ partial: text })
        : adapter === "whisperlive"
          ? send(segment(text, false))
          : send({ type: "Results", is_final: false, channel: { alternatives: [{ transcript: text }] } });
    const final = () => {
      if (adapter === "vosk") {
        send({ text: script.finalText, result: [] });
        ws.close(1000);
      } else if (adapter === "whisperlive") {
        send(segment(script.finalText, true));
        send({ uid: "u", message: "DISCONNECT" }); // and leave the socket open: the client must end it
      } else {
        send({
          type: "Results",
          is_final: true,
          speech_final: true,
          channel: { alternatives: [{ transcript: script.finalText }] },
        });
        send({ type: "Metadata", request_id: "r" });
        ws.close(1000);
      }
    };
    const onEnd = (what: string) => {
      seen.endMessage = what;
      timers.push(setTimeout(final, script.finalAfterEndMs));
    };
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary || (adapter === "whisperlive" && data.toString() === "END_OF_AUDIO")) {
        const text = data.toString();
        if (seen.firstText === undefined && seen.frames === 0) {
          seen.firstText = text;
          if (adapter === "whisperlive")
            return send(
              script.busy
                ? { uid: "u", status: "WAIT", message: 2.5 }
                : { uid: "u", message: "SERVER_READY" },
            );
          if (adapter === "vosk") return;
        }
        return onEnd(text);
      }
      seen.frames++;
      seen.audioBytes += data.length;
      if (script.dropAfterFrames !== undefined && seen.frames >= script.dropAfterFrames) {
        ws.terminate();
        return;
      }
      if (t0 === undefined) {
        t0 = performance.now();
        for (const p of script.partials) timers.push(setTimeout(() => partial(p.text), p.atMs));
      }
    });
    ws.on("close", () => {
      for (const t of timers) clearTimeout(t);
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const port = (http.address() as AddressInfo).port;
  return {
    url: new URL(`ws://127.0.0.1:${port}/v1/listen`),
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => r());
      }),
  };
}
