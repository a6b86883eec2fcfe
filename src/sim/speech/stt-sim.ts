import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { createRng, deriveSeed } from "../../core/rng.js";
import type { SttAdapterName } from "../../core/speech/speech-record.js";
import type { FaultParams } from "../presets.js";
import { SIM_SCRIPT, type SttSimParams } from "./speech-params.js";

/** Where each protocol shape listens on the simulator. */
export const STT_SIM_PATHS: Record<SttAdapterName, string> = {
  vosk: "/stt/vosk",
  whisperlive: "/stt/whisperlive",
  deepgram: "/v1/listen",
};

const SAMPLE_RATE = 16_000;
/** Audio a word needs before it is recognised. */
const WORD_ONSET_MS = 120;
const END_OF_AUDIO = "END_OF_AUDIO";

/**
 * Streaming speech-to-text over WebSocket in three protocol shapes. Each stream has one worker
 * that takes jobs in order (a partial decode every partialEveryMs of audio, the final decode at the
 * end), each costing RTF x audio; a stream whose jobs cost more than real time falls behind.
 */
export class SttSim {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
  });
  private active = 0;
  private streams = 0;

  constructor(
    private readonly p: SttSimParams,
    private readonly faults: FaultParams,
    private readonly seed: number,
  ) {}

  rtf(): number {
    return this.p.baseRtf + this.p.rtfPerStream * Math.max(0, this.active - 1);
  }

  /** Takes an HTTP upgrade; answers 404 for paths that are not a speech protocol. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const adapter = (Object.keys(STT_SIM_PATHS) as SttAdapterName[]).find((a) => STT_SIM_PATHS[a] === path);
    const index = this.streams++;
    const rng = createRng(deriveSeed(this.seed ^ 0x5757, index));
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (!adapter) refuse("404 Not Found");
    else if (rng() < this.faults.http5xxRate) refuse("503 Service Unavailable");
    else this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, adapter, rng));
  }

  private serve(ws: WebSocket, adapter: SttAdapterName, rng: () => number): void {
    const p = this.p;
    this.active++;
    let counted = true;
    const release = () => {
      if (counted) this.active--;
      counted = false;
    };
    const dropAtMs = rng() < this.faults.dropRate ? 100 + rng() * 700 : Number.POSITIVE_INFINITY;
    const streamSeed = Math.floor(rng() * 2 ** 32);
    const wrong = (i: number) => createRng(deriveSeed(streamSeed, i))() < p.wordErrorRate;
    const hypothesis: string[] = [];
    const words = (audioMs: number) => {
      const n = audioMs < WORD_ONSET_MS ? 0 : Math.floor((audioMs - WORD_ONSET_MS) / p.wordMs) + 1;
      while (hypothesis.length < n) {
        const i = hypothesis.length;
        hypothesis.push(wrong(i) ? "uh" : (SIM_SCRIPT[i % SIM_SCRIPT.length] as string));
      }
      return hypothesis.slice(0, n).join(" ");
    };
    let samples = 0;
    let nextPartialMs = p.partialEveryMs;
    let busyUntil = 0;
    let ended = false;
    let ready = adapter !== "whisperlive";
    const timers = new Set<NodeJS.Timeout>();
    const send = (msg: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    /** Runs a job of `costMs` after the jobs before it, then calls `emit`. */
    const job = (costMs: number, emit: () => void) => {
      const now = performance.now();
      busyUntil = Math.max(now, busyUntil) + costMs;
      const t = setTimeout(() => {
        timers.delete(t);
        emit();
      }, busyUntil - now);
      timers.add(t);
    };
    const audioMs = () => (1000 * samples) / SAMPLE_RATE;

    const partial = (text: string, atMs: number) => {
      if (adapter === "vosk") send({ partial: text });
      else if (adapter === "deepgram") send(deepgramResult(text, atMs, false));
      else
        send({
          uid: "sim",
          segments: [{ start: "0.000", end: (atMs / 1000).toFixed(3), text, completed: false }],
        });
    };
    const final = (text: string, atMs: number) => {
      if (adapter === "vosk") {
        send({ text, result: [] });
        ws.close(1000);
      } else if (adapter === "deepgram") {
        send(deepgramResult(text, atMs, true));
        send({ type: "Metadata", duration: atMs / 1000, channels: 1 });
        ws.close(1000);
      } else {
        send({
          uid: "sim",
          segments: [{ start: "0.000", end: (atMs / 1000).toFixed(3), text, completed: true }],
        });
        send({ uid: "sim", message: "DISCONNECT" });
        ws.close(1000);
      }
      release();
    };
    const endAudio = () => {
      if (ended) return;
      ended = true;
      const at = audioMs();
      job(p.finalBaseMs + this.rtf() * at, () => final(words(at), at));
    };
    const onAudio = (n: number) => {
      samples += n;
      const at = audioMs();
      if (at >= dropAtMs) {
        release();
        ws.terminate(); // an abrupt drop: no close frame
        return;
      }
      while (at >= nextPartialMs) {
        const pos = nextPartialMs;
        nextPartialMs += p.partialEveryMs;
        job(this.rtf() * p.partialEveryMs, () => {
          const text = words(pos);
          if (text) partial(text, pos);
        });
      }
    };

    ws.on("message", (data: Buffer, isBinary) => {
      if (ended) return;
      if (!isBinary) {
        const text = data.toString();
        if (adapter === "whisperlive" && !ready) {
          ready = true;
          send({ uid: "sim", message: "SERVER_READY", backend: "streamslo-sim" });
        } else if (adapter === "vosk" && text.includes('"eof"')) endAudio();
        else if (adapter === "deepgram" && text.includes("CloseStream")) endAudio();
        return;
      }
      if (adapter === "whisperlive") {
        if (data.length === END_OF_AUDIO.length && data.toString() === END_OF_AUDIO) endAudio();
        else if (ready) onAudio(Math.floor(data.length / 4));
      } else onAudio(Math.floor(data.length / 2));
    });
    ws.on("close", () => {
      release();
      for (const t of timers) clearTimeout(t);
    });
    ws.on("error", () => ws.terminate());
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}

function deepgramResult(text: string, atMs: number, final: boolean) {
  return {
    type: "Results",
    channel_index: [0, 1],
    start: 0,
    duration: atMs / 1000,
    is_final: final,
    speech_final: final,
    channel: { alternatives: [{ transcript: text, confidence: 0.9, words: [] }] },
  };
}
