import { type Dispatcher, request } from "undici";
import type { TtsRecord } from "../../core/speech/speech-record.js";
import { WavStreamHeader } from "../../core/speech/wav-stream.js";
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

/**
 * One text-to-speech request with a streamed audio body (OpenAI's /v1/audio/speech shape): every
 * body chunk is timestamped as it arrives. A WAV response's header (whatever format was asked for:
 * a server may answer WAV to a pcm request) sets the playback rate and is not counted as audio.
 * Never rejects: failures are recorded.
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
  const wav = new WavStreamHeader();
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
    const audioArrived = (audio: number, now: number) => {
      if (audio <= 0) return;
      rec.firstAudioMs ??= now;
      rec.chunkTimesMs.push(now);
      rec.chunkBytes.push(audio);
      rec.audioBytes += audio;
    };
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const now = clock.now();
      audioArrived(wav.feed(chunk), now);
      if (wav.byteRate !== undefined) rec.bytesPerSecond = wav.byteRate;
    }
    rec.endMs = clock.now();
    audioArrived(wav.end(), rec.endMs);
    if (rec.audioBytes === 0) {
      rec.outcome = "error";
      rec.error = { code: "empty_response", message: "the response held no audio" };
    }
  } catch (err) {
    const afterHeaders = rec.headersMs !== undefined;
    rec.outcome = o.signal.aborted ? "aborted" : afterHeaders ? "incomplete" : "error";
    rec.error = o.signal.aborted
      ? { code: "aborted", message: "stopped by the run" }
      : signal.aborted
        ? { code: "request_timeout", message: `longer than ${o.maxRequestMs} ms` }
        : { code: transportErrorCode(err, afterHeaders), message: errorMessage(err) };
  }
  return rec;
}
