import WebSocket from "ws";
import type { Phase, RequestError } from "../../core/record.js";
import { redactSecret } from "../../core/redact.js";
import type { SttRecord } from "../../core/speech/speech-record.js";
import type { SttProtocol } from "../../core/speech/stt-protocols.js";
import { wordErrors } from "../../core/speech/wer.js";
import type { Clock } from "../clock.js";

export interface SttStreamOptions {
  url: URL;
  protocol: SttProtocol;
  /** Mono 16-bit samples at protocol.sampleRate. */
  samples: Int16Array;
  frameMs: number;
  apiKey?: string;
  language?: string;
  model?: string;
  /** Reference transcript for WER. */
  reference?: string;
  /** Longest wait for the handshake, the ready message, and the final after the end of audio. */
  timeoutMs: number;
  /**
   * After the end of audio and at least one final: this long without a message ends the stream
   * as complete (for servers that neither say "done" nor close).
   */
  finalIdleMs: number;
  signal: AbortSignal;
}

export interface StreamMeta {
  id: string;
  scenario: string;
  phase: Phase;
  intendedStartMs: number;
}

/** Close codes that end a stream normally (1005: closed without a code). */
const NORMAL_CLOSE = new Set([1000, 1005]);

/**
 * Streams one utterance to a speech-to-text WebSocket like a microphone: frames leave on a
 * real-time schedule (each timer aims at its frame's due time, so drift never accumulates),
 * and every server message is timestamped on arrival. Never rejects: failures are recorded.
 */
export function streamStt(clock: Clock, o: SttStreamOptions, meta: StreamMeta): Promise<SttRecord> {
  const p = o.protocol;
  const rec: SttRecord = {
    kind: "stt",
    adapter: p.name,
    ...meta,
    startMs: clock.now(),
    audioMs: 0,
    frameLagMaxMs: 0,
    partialTimesMs: [],
    finalTimesMs: [],
    outcome: "ok",
  };
  const start = { sampleRate: p.sampleRate, language: o.language, model: o.model, uid: meta.id };
  const { url, headers } = p.handshake(o.url, start, o.apiKey);
  const session = p.session();
  const frameSamples = Math.max(1, Math.round((p.sampleRate * o.frameMs) / 1000));
  const frames = Math.ceil(o.samples.length / frameSamples);

  return new Promise<SttRecord>((resolve) => {
    let settled = false;
    let audioDone = false;
    let lastPartial = "";
    let lastResultMs: number | undefined;
    let lastFinalMs: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: o.timeoutMs });

    const finish = (error?: RequestError, outcome: SttRecord["outcome"] = "error") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      o.signal.removeEventListener("abort", onAbort);
      if (error) {
        rec.outcome = outcome;
        // What a server says can echo the key back; records never carry it.
        rec.error = { code: error.code, message: redactSecret(error.message, o.apiKey) };
      } else {
        rec.endMs = lastFinalMs ?? lastResultMs;
        rec.transcript = redactSecret(session.transcript(), o.apiKey);
        if (o.reference !== undefined) rec.wordErrors = wordErrors(o.reference, rec.transcript);
      }
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      resolve(rec);
    };
    const onAbort = () => finish({ code: "aborted", message: "stopped by the run" }, "aborted");
    if (o.signal.aborted) {
      queueMicrotask(onAbort);
    } else {
      o.signal.addEventListener("abort", onAbort, { once: true });
    }
    const armDeadline = (ms: number, what: string, outcome: SttRecord["outcome"] = "error") => {
      clearTimeout(deadline);
      if (ms <= 0) return; // --timeout 0: no limit
      deadline = setTimeout(
        () => finish({ code: "request_timeout", message: `no ${what} within ${Math.round(ms)} ms` }, outcome),
        ms,
      );
    };
    armDeadline(o.timeoutMs, "WebSocket handshake");

    const sendAudio = () => {
      rec.firstAudioMs = clock.now();
      let k = 0;
      const tick = () => {
        if (settled) return;
        const now = clock.now();
        const due = (rec.firstAudioMs as number) + k * o.frameMs;
        if (now - due > rec.frameLagMaxMs) rec.frameLagMaxMs = now - due;
        const chunk = o.samples.subarray(
          k * frameSamples,
          Math.min(o.samples.length, (k + 1) * frameSamples),
        );
        ws.send(p.frame(chunk));
        rec.audioMs += (1000 * chunk.length) / p.sampleRate;
        k++;
        if (k < frames) {
          const next = (rec.firstAudioMs as number) + k * o.frameMs;
          timer = setTimeout(tick, Math.max(0, next - clock.now()));
          return;
        }
        rec.audioEndMs = now;
        for (const m of p.end()) ws.send(m);
        audioDone = true;
        armDeadline(o.timeoutMs, "final transcript after the end of audio", "incomplete");
      };
      tick();
    };

    ws.on("open", () => {
      rec.openMs = clock.now();
      for (const m of p.start(start)) ws.send(m);
      if (p.awaitsReady) armDeadline(o.timeoutMs, "ready message");
      else {
        rec.readyMs = rec.openMs;
        clearTimeout(deadline);
        sendAudio();
      }
    });
    ws.on("message", (data, isBinary) => {
      if (settled || isBinary) return;
      const now = clock.now();
      for (const e of session.parse(data.toString())) {
        switch (e.kind) {
          case "ready":
            if (rec.readyMs === undefined) {
              rec.readyMs = now;
              clearTimeout(deadline);
              sendAudio();
            }
            break;
          case "partial":
            if (e.text && e.text !== lastPartial) {
              lastPartial = e.text;
              rec.partialTimesMs.push(now);
              rec.firstTextMs ??= now;
              lastResultMs = now;
            }
            break;
          case "final":
            rec.finalTimesMs.push(now);
            if (e.text) rec.firstTextMs ??= now;
            lastPartial = "";
            lastResultMs = now;
            lastFinalMs = now;
            break;
          case "done":
            if (audioDone) finish();
            break;
          case "error":
            finish({ code: e.code, message: e.message });
            break;
        }
      }
      if (audioDone && lastFinalMs !== undefined && !settled) {
        clearTimeout(deadline);
        deadline = setTimeout(() => finish(), o.finalIdleMs);
      }
    });
    ws.on("unexpected-response", (_req, res) => {
      finish({ code: `http_${res.statusCode ?? 0}`, message: `handshake answered HTTP ${res.statusCode}` });
    });
    ws.on("error", (err: NodeJS.ErrnoException) => {
      const code =
        err.code === "ECONNREFUSED"
          ? "connect_refused"
          : err.code === "ENOTFOUND"
            ? "dns_failed"
            : "ws_error";
      finish({ code, message: err.message }, rec.openMs === undefined ? "error" : "incomplete");
    });
    ws.on("close", (code, reason) => {
      if (settled) return;
      if (audioDone && NORMAL_CLOSE.has(code)) finish();
      else
        finish(
          {
            code: "ws_closed",
            message: `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""}) ${audioDone ? "before the final transcript" : "while audio was streaming"}`,
          },
          "incomplete",
        );
    });
  });
}
