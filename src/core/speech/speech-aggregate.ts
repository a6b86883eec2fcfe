import { Distribution, type Stats } from "../histogram.js";
import type { ErrorCode } from "../record.js";
import { type SttMetrics, sttMetrics, type TtsMetrics, ttsMetrics } from "./speech-metrics.js";
import type { SpeechRecord, SttRecord, TtsRecord } from "./speech-record.js";
import type { TargetResult, VoiceTargets } from "./voice-targets.js";

export interface SpeechLevelInfo {
  scenario: string;
  /** e.g. "stt-ws/vosk" or "tts-http". */
  mode: string;
  concurrency?: number;
  rate?: number;
}

export interface SpeechLevelSummary extends SpeechLevelInfo {
  kind: "stt" | "tts";
  n: number;
  sent: number;
  ok: number;
  error: number;
  incomplete: number;
  drop_rate: number;
  error_codes: Record<string, number>;
  duration_s: number;
  /** Seconds of audio streamed (STT) or received (TTS) per second of wall time. */
  audio_s_per_s: number;
  setup_ms?: Stats;
  first_partial_ms?: Stats;
  partial_gap_ms?: Stats;
  final_ms?: Stats;
  rtf?: Stats;
  /** Streams whose RTF reached 1.0: the server fell behind real time. */
  behind_realtime?: number;
  /** Word error rate over all completed streams with a reference: total edits / total words. */
  wer?: number | null;
  frame_lag_max_ms?: number;
  first_audio_ms?: Stats;
  realtime_ratio?: Stats;
  stalls_per_stream?: Stats;
  stall_ms?: Stats;
  goodput: { count: number; share: number; rate_per_s: number };
  /** Per-stream criterion -> streams that missed it. */
  missed: Record<string, number>;
  targets: TargetResult[];
}

/** Per-stream criteria for goodput: a stream is good when it completed and met every one. */
export function judgeSpeech(
  r: SpeechRecord,
  t: VoiceTargets,
  ttsBufferMs: number,
): { good: boolean; missed: string[] } {
  // A stream that failed misses on its outcome alone; its latencies are not what went wrong.
  if (r.outcome !== "ok") return { good: false, missed: ["outcome"] };
  const missed: string[] = [];
  if (r.kind === "stt") {
    const m = sttMetrics(r);
    if (!(m.firstPartialMs !== undefined && m.firstPartialMs <= t.firstPartialMs))
      missed.push("first_partial");
    if (!(m.finalMs !== undefined && m.finalMs <= t.finalMs)) missed.push("final");
    if (!(m.rtf !== undefined && m.rtf < t.rtf)) missed.push("rtf");
  } else {
    const m = ttsMetrics(r, ttsBufferMs);
    if (!(m.firstAudioMs !== undefined && m.firstAudioMs <= t.firstAudioMs)) missed.push("first_audio");
    if (m.stalls > 0) missed.push("stalls");
  }
  return { good: missed.length === 0, missed };
}

/** Everything one speech load level needs to be summarised; memory flat in the number of streams. */
export class SpeechAggregate {
  sent = 0;
  ok = 0;
  error = 0;
  incomplete = 0;
  good = 0;
  behind = 0;
  werErrors = 0;
  werWords = 0;
  frameLagMax = 0;
  audioMs = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private kind: "stt" | "tts" = "stt";
  readonly codes: Record<string, number> = {};
  readonly missed: Record<string, number> = {};
  readonly d = {
    setup: new Distribution(),
    firstPartial: new Distribution(),
    partialGap: new Distribution(),
    final: new Distribution(),
    rtf: new Distribution(),
    firstAudio: new Distribution(),
    realtime: new Distribution(),
    stalls: new Distribution(),
    stallMs: new Distribution(),
  };

  constructor(
    readonly info: SpeechLevelInfo,
    private readonly targets: VoiceTargets,
    private readonly ttsBufferMs: number,
  ) {}

  add(r: SpeechRecord): void {
    this.kind = r.kind;
    if (r.outcome === "aborted") return;
    this.sent++;
    this[r.outcome]++;
    if (r.error) this.codes[r.error.code as ErrorCode] = (this.codes[r.error.code] ?? 0) + 1;
    this.first = Math.min(this.first, r.startMs);
    const verdict = r.slo ?? judgeSpeech(r, this.targets, this.ttsBufferMs);
    if (verdict.good) this.good++;
    for (const c of verdict.missed) this.missed[c] = (this.missed[c] ?? 0) + 1;
    if (r.kind === "stt") this.addStt(r, sttMetrics(r));
    else this.addTts(r, ttsMetrics(r, this.ttsBufferMs));
  }

  private addStt(r: SttRecord, m: SttMetrics): void {
    this.last = Math.max(this.last, r.endMs ?? r.audioEndMs ?? r.startMs);
    this.audioMs += r.audioMs;
    if (m.setupMs !== undefined) this.d.setup.record(m.setupMs);
    if (m.firstPartialMs !== undefined) this.d.firstPartial.record(m.firstPartialMs);
    for (const g of m.partialGapsMs) this.d.partialGap.record(g);
    if (m.finalMs !== undefined) this.d.final.record(m.finalMs);
    if (m.rtf !== undefined) {
      this.d.rtf.record(m.rtf);
      if (m.rtf >= 1) this.behind++;
    }
    if (r.wordErrors) {
      this.werErrors += r.wordErrors.errors;
      this.werWords += r.wordErrors.referenceWords;
    }
    this.frameLagMax = Math.max(this.frameLagMax, r.frameLagMaxMs);
  }

  private addTts(r: TtsRecord, m: TtsMetrics): void {
    this.last = Math.max(this.last, r.endMs ?? r.startMs);
    this.audioMs += m.audioMs;
    if (m.firstAudioMs !== undefined) this.d.firstAudio.record(m.firstAudioMs);
    if (m.realtimeRatio !== undefined) this.d.realtime.record(m.realtimeRatio);
    if (r.outcome === "ok") {
      this.d.stalls.record(m.stalls);
      this.d.stallMs.record(m.stallMs);
    }
  }

  summary(): SpeechLevelSummary {
    const duration = this.sent > 0 && this.last > this.first ? (this.last - this.first) / 1000 : 0;
    const dropRate = this.sent > 0 ? (this.error + this.incomplete) / this.sent : 0;
    const base = {
      ...this.info,
      kind: this.kind,
      n: this.sent,
      sent: this.sent,
      ok: this.ok,
      error: this.error,
      incomplete: this.incomplete,
      drop_rate: dropRate,
      error_codes: this.codes,
      duration_s: duration,
      audio_s_per_s: duration > 0 ? this.audioMs / 1000 / duration : 0,
      goodput: {
        count: this.good,
        share: this.sent > 0 ? this.good / this.sent : 0,
        rate_per_s: duration > 0 ? this.good / duration : 0,
      },
      missed: this.missed,
    };
    const t = this.targets;
    const p95 = (d: Distribution) => (d.count > 0 ? d.percentile(95) : null);
    const drop: TargetResult = {
      target: `drop rate < ${t.dropRate}`,
      observed: dropRate,
      pass: dropRate < t.dropRate,
    };
    if (this.kind === "stt") {
      const fp = p95(this.d.firstPartial);
      const fin = p95(this.d.final);
      const rtf = p95(this.d.rtf);
      return {
        ...base,
        setup_ms: this.d.setup.stats(),
        first_partial_ms: this.d.firstPartial.stats(),
        partial_gap_ms: this.d.partialGap.stats(),
        final_ms: this.d.final.stats(),
        rtf: this.d.rtf.stats(),
        behind_realtime: this.behind,
        wer: this.werWords > 0 ? this.werErrors / this.werWords : null,
        frame_lag_max_ms: this.frameLagMax,
        targets: [
          {
            target: `first partial p(95) <= ${t.firstPartialMs}ms`,
            observed: fp,
            pass: fp !== null && fp <= t.firstPartialMs,
          },
          { target: `final p(95) <= ${t.finalMs}ms`, observed: fin, pass: fin !== null && fin <= t.finalMs },
          { target: `RTF p(95) < ${t.rtf}`, observed: rtf, pass: rtf !== null && rtf < t.rtf },
          drop,
        ],
      };
    }
    const fa = p95(this.d.firstAudio);
    return {
      ...base,
      first_audio_ms: this.d.firstAudio.stats(),
      realtime_ratio: this.d.realtime.stats(),
      stalls_per_stream: this.d.stalls.stats(true),
      stall_ms: this.d.stallMs.stats(),
      targets: [
        {
          target: `first audio p(95) <= ${t.firstAudioMs}ms`,
          observed: fa,
          pass: fa !== null && fa <= t.firstAudioMs,
        },
        drop,
      ],
    };
  }
}
