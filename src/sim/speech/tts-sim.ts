import type { IncomingMessage, ServerResponse } from "node:http";
import { createRng, deriveSeed } from "../../core/rng.js";
import type { FaultParams } from "../presets.js";
import type { TtsSimParams } from "./speech-params.js";

export const TTS_SIM_PATH = "/v1/audio/speech";
const MAX_BODY = 64 * 1024;

/**
 * Streaming text-to-speech in OpenAI's /v1/audio/speech shape: 16-bit mono PCM (or WAV) sent
 * chunk by chunk as it is "synthesised"; each chunk costs RTF x its audio, RTF growing with the
 * requests served at once, so past RTF 1.0 audio arrives slower than it plays.
 */
export class TtsSim {
  private active = 0;
  private requests = 0;
  private readonly tone: Buffer;

  constructor(
    private readonly p: TtsSimParams,
    private readonly faults: FaultParams,
    private readonly seed: number,
  ) {
    const n = Math.round((p.sampleRate * p.chunkMs) / 1000);
    this.tone = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++)
      this.tone.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / p.sampleRate)), 2 * i);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) parts.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (size > MAX_BODY) return json(res, 413, `request body over ${MAX_BODY} bytes`);
      let body: { input?: unknown; response_format?: unknown };
      try {
        body = JSON.parse(Buffer.concat(parts).toString("utf8")) as typeof body;
      } catch {
        return json(res, 400, "request body is not JSON");
      }
      if (typeof body?.input !== "string" || body.input.trim() === "")
        return json(res, 400, "input: a non-empty string is required");
      const format = body.response_format ?? "pcm";
      if (format !== "pcm" && format !== "wav")
        return json(res, 400, `response_format "${String(format)}" is not supported here: use pcm or wav`);
      this.speak(res, body.input, format);
    });
  }

  private speak(res: ServerResponse, input: string, format: "pcm" | "wav"): void {
    const p = this.p;
    const rng = createRng(deriveSeed(this.seed ^ 0x7575, this.requests++));
    if (rng() < this.faults.http5xxRate) {
      json(res, 503, "overloaded");
      return;
    }
    const words = input.trim().split(/\s+/).length;
    const chunks = Math.max(1, Math.ceil((words * p.msPerWord) / p.chunkMs));
    const dropAt = rng() < this.faults.dropRate ? Math.floor(rng() * chunks) : -1;
    this.active++;
    let done = false;
    const release = () => {
      if (!done) this.active--;
      done = true;
    };
    res.writeHead(200, { "content-type": format === "wav" ? "audio/wav" : "audio/pcm" });
    if (format === "wav") res.write(wavHeader(p.sampleRate, chunks * this.tone.length));
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const next = (delay: number) => {
      timer = setTimeout(() => {
        if (done) return;
        if (sent === dropAt) {
          release();
          res.destroy();
          return;
        }
        res.write(this.tone);
        sent++;
        if (sent === chunks) {
          release();
          res.end();
        } else next(this.rtf() * p.chunkMs);
      }, delay);
    };
    next(p.firstAudioMs + this.rtf() * p.chunkMs);
    res.on("close", () => {
      clearTimeout(timer);
      release();
    });
  }

  rtf(): number {
    return this.p.baseRtf + this.p.rtfPerStream * Math.max(0, this.active - 1);
  }
}

function json(res: ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({
    error: { message, type: status >= 500 ? "server_error" : "invalid_request_error" },
  });
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    .end(text);
}

function wavHeader(rate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVEfmt ", 8, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
