import type { Dispatcher } from "undici";
import type { Clock } from "../client/clock.js";
import { type StreamMeta, type SttStreamOptions, streamStt } from "../client/speech/stt-stream.js";
import { streamTts, type TtsStreamOptions } from "../client/speech/tts-stream.js";
import type { ArrivalSpec } from "../core/arrivals.js";
import type { Phase } from "../core/record.js";
import { judgeSpeech, SpeechAggregate, type SpeechLevelSummary } from "../core/speech/speech-aggregate.js";
import type { SpeechRecord } from "../core/speech/speech-record.js";
import type { VoiceTargets } from "../core/speech/voice-targets.js";
import { levelInfo, type SteadyLevel, type StopReason } from "./bench-run.js";
import { runClosedLoop } from "./closed-loop.js";
import type { LoopIo } from "./load-loop.js";
import { runOpenLoop } from "./open-loop.js";
import { StoppableRunner } from "./run-stop.js";

export type SpeechTarget =
  | { kind: "stt"; stream: Omit<SttStreamOptions, "signal"> }
  | { kind: "tts"; stream: Omit<TtsStreamOptions, "signal"> };

export interface SpeechPlan {
  target: SpeechTarget;
  n: number;
  durationS?: number;
  warmup?: number;
  arrivals: Omit<ArrivalSpec, "rate">;
  maxConcurrency?: number;
  seed: number;
  targets: VoiceTargets;
  /** Playback buffer of the TTS listener model. */
  ttsBufferMs: number;
}

export interface SpeechHooks {
  onLevelStart?(scenario: string, expected: number): void;
  onRecord?(rec: SpeechRecord): void;
  onLevelEnd?(summary: SpeechLevelSummary): void;
}

/** 429 is the endpoint's load, not a wrong URL or key. */
const FATAL = /^(http_4(?!29)\d\d|connect_refused|dns_failed|tls_failed|not_audio)$/;

/** Failures that no amount of retrying fixes: wrong URL, wrong key, wrong kind of server. */
export function isFatalSpeechCode(code: string): boolean {
  return FATAL.test(code);
}
const FATAL_AFTER = 3;

/**
 * Runs speech load levels (streams at a concurrency or arrival rate) through the same closed and
 * open loops as generations, with the same warm-up and cool-down phases.
 */
export class SpeechRunner extends StoppableRunner<StopReason> {
  private seq = 0;
  private seen = 0;
  private fatalSeen = 0;

  constructor(
    readonly plan: SpeechPlan,
    private readonly dispatcher: Dispatcher,
    private readonly clock: Clock,
    private readonly hooks: SpeechHooks = {},
    signal?: AbortSignal,
  ) {
    super(signal, { kind: "interrupted" });
  }

  get mode(): string {
    const t = this.plan.target;
    return t.kind === "stt" ? `stt-ws/${t.stream.protocol.name}` : "tts-http";
  }

  async runLevel(level: SteadyLevel): Promise<SpeechLevelSummary | undefined> {
    const plan = this.plan;
    const info = { ...levelInfo(level, true), mode: this.mode };
    const agg = new SpeechAggregate(info, plan.targets, plan.ttsBufferMs);
    const warmup = plan.warmup ?? (level.kind === "concurrency" ? level.concurrency : Math.ceil(level.rate));
    this.hooks.onLevelStart?.(info.scenario, warmup + plan.n);
    const io: LoopIo<SpeechRecord> = {
      stop: this.halt.signal,
      now: () => this.clock.now(),
      send: (phase: Phase, intended: number | undefined, signal: AbortSignal) => {
        const meta: StreamMeta = {
          id: `s${this.seq++}`,
          scenario: info.scenario,
          phase,
          intendedStartMs: intended ?? this.clock.now(),
        };
        const t = plan.target;
        return t.kind === "stt"
          ? streamStt(this.clock, { ...t.stream, signal }, meta)
          : streamTts(this.dispatcher, this.clock, { ...t.stream, signal }, meta);
      },
      onRecord: (rec) => {
        const counted = rec.phase === "measure" && rec.error?.code !== "aborted";
        if (counted) rec.slo = judgeSpeech(rec, plan.targets, plan.ttsBufferMs);
        this.hooks.onRecord?.(rec);
        this.watchForFatal(rec);
        if (counted) agg.add(rec);
      },
    };
    const bounds = {
      warmup,
      n: plan.n,
      durationMs: plan.durationS !== undefined ? plan.durationS * 1000 : undefined,
    };
    if (level.kind === "concurrency") await runClosedLoop(level.concurrency, bounds, io);
    else
      await runOpenLoop(
        {
          arrivals: { ...plan.arrivals, rate: level.rate },
          seed: plan.seed + this.seq,
          maxConcurrency: plan.maxConcurrency,
        },
        bounds,
        io,
      );
    if (agg.sent === 0) return undefined;
    const summary = agg.summary();
    this.hooks.onLevelEnd?.(summary);
    return summary;
  }

  /** Stops early when the first streams all fail with a code that retrying cannot fix. */
  private watchForFatal(rec: SpeechRecord): void {
    if (this.seen >= FATAL_AFTER || rec.error?.code === "aborted") return;
    this.seen++;
    if (rec.error && FATAL.test(rec.error.code)) this.fatalSeen++;
    if (this.fatalSeen === FATAL_AFTER && rec.error) {
      this.halt.stop({ kind: "fatal", error: { code: rec.error.code, message: rec.error.message } });
    }
  }
}
