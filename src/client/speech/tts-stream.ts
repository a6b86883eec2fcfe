import { type Dispatcher, request } from "undici";
import type { TtsRecord } from "../../core/speech/speech-record.js";
import type { Clock } from "../clock.js";
import { errorMessage, transportErrorCode } from "../transport-errors.js";
import type { StreamMeta } from "./stt-stream.js";

export interface TtsStreamOptions {
  /** The speech endpoint, e.g. http://host:8000/v1/audio/speech. */
  url: URL;
  model: string;
  voice: string;
  input: string;
  /** "pcm" (raw 16-bit mono) or "wav". */
  format: "pcm" | "wav";
  /** Sample rate of "pcm" responses (OpenAI's is 24 kHz); a WAV header overrides it. */
  sampleRate: number;
  apiKey?: string;
  timeoutMs: number;
  /** Undefined: no limit. */
  maxRequestMs?: number;
  signal: AbortSignal;
}

const WAV_HEADER = 44;

/**
 * One text-to-speech request with a streamed audio body (OpenAI's /v1/audio/speech shape): every
 * body chunk is timestamped as it arrives. A WAV response's header sets the playback rate and is
 * not counted as audio. Never rejects: failures are recorded.
 */
export async function streamTts(
  dispatcher: Dispatcher,
  clock: Clock,
  o: TtsStreamOptions,
  meta: StreamMeta,
): Promise<TtsRecord> {
  const rec: TtsRecord = {
    kind: "tts",
    ...meta,
    startMs: clock.now(),
    chunkTimesMs: [],
    chunkBytes: [],
    audioBytes: 0,
    bytesPerSecond: o.sampleRate * 2,
    outcome: "ok",
  };
  const signal =
    o.maxRequestMs === undefined
      ? o.signal
      : AbortSignal.any([o.signal, AbortSignal.timeout(o.maxRequestMs)]);
  let headerLeft = o.format === "wav" ? WAV_HEADER : 0;
  const header: Buffer[] = [];
  try {
    const res = await request(o.url, {
      method: "POST",
      dispatcher,
      signal,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      headers: {
        "content-type": "application/json",
        ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: o.model,
        voice: o.voice,
        input: o.input,
        response_format: o.format,
      }),
    });
    rec.headersMs = clock.now();
    rec.status = res.statusCode;
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump();
      rec.outcome = "error";
      rec.error = { code: `http_${res.statusCode}`, message: `the server answered HTTP ${res.statusCode}` };
      return rec;
    }
    // A page or a JSON answer is not speech, however many bytes it has (audio/*, octet-stream or none pass).
    const type = String(res.headers["content-type"] ?? "").toLowerCase();
    if (/^text\/|json|xml|html/.test(type)) {
      // The first chunk says enough; the rest (maybe endless) is not read.
      const first = await (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]().next();
      res.body.destroy();
      const head = first.done ? "" : first.value.toString("utf8", 0, 60).replace(/\s+/g, " ");
      rec.outcome = "error";
      rec.error = { code: "not_audio", message: `expected audio, got ${type.split(";")[0]}: "${head}"` };
      return rec;
    }
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const now = clock.now();
      let audio = chunk.length;
      if (headerLeft > 0) {
        const take = Math.min(headerLeft, chunk.length);
        header.push(chunk.subarray(0, take));
        headerLeft -= take;
        audio -= take;
        if (headerLeft === 0) rec.bytesPerSecond = wavByteRate(Buffer.concat(header)) ?? rec.bytesPerSecond;
      }
      if (audio <= 0) continue;
      rec.firstAudioMs ??= now;
      rec.chunkTimesMs.push(now);
      rec.chunkBytes.push(audio);
      rec.audioBytes += audio;
    }
    rec.endMs = clock.now();
    if (rec.audioBytes === 0) {
      rec.outcome = "error";
      rec.error = { code: "empty_response", message: "the response held no audio" };
    }
  } catch (err) {
    const afterHeaders = rec.headersMs !== undefined;
    rec.outcome = afterHeaders ? "incomplete" : "error";
    rec.error = o.signal.aborted
      ? { code: "aborted", message: "stopped by the run" }
      : signal.aborted
        ? { code: "request_timeout", message: `longer than ${o.maxRequestMs} ms` }
        : { code: transportErrorCode(err, afterHeaders), message: errorMessage(err) };
  }
  return rec;
}

/** Bytes per second from a canonical 44-byte WAV header (offset 28: byte rate). */
function wavByteRate(h: Buffer): number | undefined {
  if (h.length < WAV_HEADER || h.toString("latin1", 0, 4) !== "RIFF") return undefined;
  const rate = h.readUInt32LE(28);
  return rate > 0 ? rate : undefined;
}
