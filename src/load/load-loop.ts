import type { Phase, RequestRecord } from "../core/record.js";
import type { RequestInput } from "../core/workload.js";

/**
 * What a load loop needs from the bench: a way to send, a sink for records, and a stop signal.
 * `R` is the record a request yields (a generation, or a speech stream).
 */
export interface LoopIo<R = RequestRecord> {
  /** Sends one request; `intendedStartMs` is the schedule's send time (open loop). Never rejects. */
  send(
    phase: Phase,
    intendedStartMs: number | undefined,
    signal: AbortSignal,
    input?: RequestInput,
  ): Promise<R>;
  onRecord(rec: R): void;
  /** Once aborted, no new request starts and in-flight ones are aborted. */
  stop: AbortSignal;
  now(): number;
}

export interface LoopBounds {
  /** Warm-up requests, sent first and left out of the statistics. */
  warmup: number;
  /** Measured requests (upper bound when durationMs is set). */
  n: number;
  /** Stop starting measured requests this long after the first one (ms). */
  durationMs?: number;
}

/**
 * Decides each request's phase: warm-up by count, then measured until n or the duration is reached,
 * then cool-down requests that keep the load steady until the last measured request finishes, so
 * no measured request sees the load fall away around it.
 */
export class PhaseTracker {
  private started = 0;
  private measuredStarted = 0;
  private measuredDone = 0;
  private measureStartMs: number | undefined;
  private closed = false;
  readonly cooldown = new AbortController();

  constructor(private readonly b: LoopBounds) {}

  /** The phase of the next request sent at `atMs`, or undefined when the level is over. */
  next(atMs: number): Phase | undefined {
    if (this.started < this.b.warmup) {
      this.started++;
      return "warmup";
    }
    if (!this.closed) {
      const timeLeft =
        this.b.durationMs === undefined ||
        this.measureStartMs === undefined ||
        atMs - this.measureStartMs < this.b.durationMs;
      if (this.measuredStarted < this.b.n && timeLeft) {
        this.measureStartMs ??= atMs;
        this.started++;
        this.measuredStarted++;
        return "measure";
      }
      this.closed = true;
    }
    if (this.measuredDone < this.measuredStarted) {
      this.started++;
      return "cooldown";
    }
    return undefined;
  }

  done(phase: Phase): void {
    if (phase !== "measure") return;
    this.measuredDone++;
    if (this.finished)
      this.cooldown.abort(
        new Error("cut at the level's end: a cool-down request, kept out of the statistics"),
      );
  }

  /** No more measured requests will start, and all that started have finished. */
  get finished(): boolean {
    return this.closed && this.measuredDone === this.measuredStarted;
  }
}

/** The signal a request of this phase is sent with: cool-down requests stop when the level ends. */
export function signalFor(phase: Phase, stop: AbortSignal, tracker: PhaseTracker): AbortSignal {
  return phase === "cooldown" ? AbortSignal.any([stop, tracker.cooldown.signal]) : stop;
}
