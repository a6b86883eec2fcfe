import type { Clock } from "../client/clock.js";
import type { GenerationDispatcher } from "../client/dispatcher.js";
import { type SendOptions, sendGeneration } from "../client/generation-client.js";
import { buildRequestBody, type GenerationParams } from "../client/request-body.js";
import type { ArrivalSpec } from "../core/arrivals.js";
import { LevelAggregate, type LevelInfo, type LevelSummary } from "../core/level-aggregate.js";
import type { ErrorCode, Phase, RequestRecord } from "../core/record.js";
import type { ServerView } from "../core/report/report-input.js";
import { judgeRequest } from "../core/request-slo.js";
import { abortingObjective, evaluateObjectives, type ObjectiveResult } from "../core/slo-eval.js";
import type { SloSpec } from "../core/slo-spec.js";
import { TurnAggregate } from "../core/turn-aggregate.js";
import { type RequestInput, requestInput, type Workload } from "../core/workload.js";
import { ClientHealth, DEFAULT_VALIDITY, type Validity, type ValidityLimits } from "./client-health.js";
import { runClosedLoop } from "./closed-loop.js";
import type { LoopIo } from "./load-loop.js";
import { runOpenLoop } from "./open-loop.js";
import { StoppableRunner } from "./run-stop.js";
import type { ServerObserver } from "./server-observer.js";
import { runSessionLoop, type SessionPlan } from "./session-loop.js";
import { runTraceLoop, type TimedRequest } from "./trace-loop.js";

/** One load level: a number of concurrent users (closed loop) or an offered rate (open loop). */
/** A level of load set by a number: users (closed loop) or a rate (open loop). */
export type SteadyLevel = { kind: "concurrency"; concurrency: number } | { kind: "rate"; rate: number };

export type LoadLevel =
  | { kind: "concurrency"; concurrency: number }
  | { kind: "rate"; rate: number }
  /** A trace replayed on its timeline; `rate` is its mean offered rate at `speed`, for the summary. */
  | { kind: "trace"; rows: () => AsyncIterable<TimedRequest>; speed: number; rate: number }
  /** Multi-turn sessions run by `users` at once (a closed loop of users). */
  | { kind: "sessions"; plan: Omit<SessionPlan, "keepText">; rate?: number };

export interface BenchPlan {
  generation: GenerationParams;
  send: Omit<SendOptions, "signal">;
  workload: Workload;
  /** Measured requests per level (an upper bound when durationS is set). */
  n: number;
  /** Length of each level's measurement window, in seconds. */
  durationS?: number;
  /** Warm-up requests per level; undefined = one per user (closed loop) or one second's worth (open loop). */
  warmup?: number;
  arrivals: Omit<ArrivalSpec, "rate">;
  /** Open loop: cap on requests in flight; more wait in a client-side queue. */
  maxConcurrency?: number;
  /** Stop the run when a level's error share passes this (after 20 measured requests). */
  maxErrorRate?: number;
  slo?: SloSpec;
  validity?: ValidityLimits;
  /** Watches the server's own /metrics during each level, when it has them. */
  server?: ServerObserver;
}

export interface BenchHooks {
  onLevelStart?(level: LevelInfo, expected: number): void;
  /** Every record, warm-up and cool-down included, as soon as it completes (write it to disk here). */
  onRecord?(rec: RequestRecord): void;
  onLevelEnd?(result: LevelResult): void;
}

export interface LevelResult {
  summary: LevelSummary;
  objectives: ObjectiveResult[];
  validity: Validity;
  /** The server's own view of the level, from its metrics. */
  server?: ServerView;
}

export interface FatalError {
  code: ErrorCode;
  message: string;
}

/** Why a run ended before its plan did. */
export type StopReason =
  | { kind: "fatal"; error: FatalError }
  | { kind: "interrupted" }
  | { kind: "max-error-rate"; level: string; errorRate: number }
  | { kind: "abort-on-fail"; level: string; objective: ObjectiveResult };

/** Failures that no amount of retrying fixes: wrong URL, wrong key, wrong kind of server. */
const FATAL_CODES = new Set<string>([
  // A redirect that is not followed (a 301/302/303 to a POST, too many hops, https to http) is not followed next time either.
  "http_301",
  "http_302",
  "http_303",
  "http_307",
  "http_308",
  "bad_encoding",
  "http_400",
  "http_401",
  "http_403",
  "http_404",
  "http_405",
  "http_422",
  "connect_refused",
  "dns_failed",
  "tls_failed",
  "not_sse",
  "invalid_json",
]);
const FATAL_AFTER = 3;

export function isFatalCode(code: string): boolean {
  return FATAL_CODES.has(code);
}
const MIN_FOR_ERROR_RATE = 20;

export function levelInfo(level: LoadLevel, stream: boolean): LevelInfo {
  const mode = stream ? "stream" : "no-stream";
  if (level.kind === "trace") return { scenario: "trace", mode, rate: level.rate };
  if (level.kind === "sessions")
    return level.rate !== undefined
      ? { scenario: `rate=${Number(level.rate.toPrecision(4))}`, mode, rate: level.rate }
      : { scenario: `c=${level.plan.users}`, mode, concurrency: level.plan.users };
  return level.kind === "concurrency"
    ? { scenario: `c=${level.concurrency}`, mode, concurrency: level.concurrency }
    : { scenario: `rate=${Number(level.rate.toPrecision(4))}`, mode, rate: level.rate };
}

/**
 * Runs load levels one after another against one endpoint, streaming every record out as it
 * completes. Keeps what all levels share: the connection pool, the clock, the request counter
 * and the reasons to stop early.
 */
export class BenchRunner extends StoppableRunner<StopReason> {
  private seq = 0;
  private seen = 0;
  private sameFailures = 0;

  constructor(
    readonly plan: BenchPlan,
    private readonly dispatcher: GenerationDispatcher,
    private readonly clock: Clock,
    private readonly hooks: BenchHooks = {},
    signal?: AbortSignal,
  ) {
    super(signal, { kind: "interrupted" });
  }

  private stop(reason: StopReason): void {
    this.halt.stop(reason);
  }

  /** Runs one level to its end (or the run's stop) and returns its summary, objectives and validity. */
  async runLevel(level: LoadLevel): Promise<LevelResult | undefined> {
    const plan = this.plan;
    const info = levelInfo(level, plan.generation.stream);
    const agg = new LevelAggregate(info, plan.slo);
    // A trace is replayed as recorded: every row is measured, none is spent on warming up.
    const warmup =
      level.kind === "trace" || level.kind === "sessions"
        ? 0
        : (plan.warmup ?? (level.kind === "concurrency" ? level.concurrency : Math.ceil(level.rate)));
    const turns = level.kind === "sessions" ? new TurnAggregate() : undefined;
    this.hooks.onLevelStart?.(info, warmup + plan.n);
    await plan.server?.start();
    const health = new ClientHealth();
    const objectives = plan.slo?.objectives ?? [];
    const criteria = plan.slo?.request;
    // TTFT over every request the server's metrics see in this level, to set against theirs.
    const seenByServer = { sumMs: 0, count: 0, firstChunkTokens: 0 };
    // The client's own count of requests in flight: exact, beside the server's sampled gauges.
    const flight = { now: 0, peak: 0 };

    const io: LoopIo = {
      stop: this.halt.signal,
      now: () => this.clock.now(),
      send: (
        phase: Phase,
        intendedStartMs: number | undefined,
        signal: AbortSignal,
        input?: RequestInput,
      ) => {
        const index = this.seq++;
        const body = buildRequestBody(plan.generation, input ?? requestInput(plan.workload, index));
        const meta = {
          id: `r${index}`,
          scenario: info.scenario,
          phase,
          intendedStartMs: intendedStartMs ?? this.clock.now(),
        };
        if (++flight.now > flight.peak) flight.peak = flight.now;
        // A session's next turn carries this answer: its text is kept for the history.
        const keepText = plan.send.keepText || input?.messages !== undefined;
        return sendGeneration(this.dispatcher, this.clock, { ...plan.send, signal, keepText }, body, meta)
          .then((rec) => {
            if (input?.session !== undefined) {
              rec.session = input.session;
              rec.turn = input.turn;
              if (input.lastTurn) rec.lastTurn = true;
            }
            return rec;
          })
          .finally(() => {
            flight.now--;
          });
      },
      onRecord: (rec) => {
        if (rec.firstContentMs !== undefined) {
          seenByServer.sumMs += rec.firstContentMs - rec.startMs;
          seenByServer.count++;
          seenByServer.firstChunkTokens += rec.chunkTokens[0] ?? 1;
        }
        if (criteria && rec.phase === "measure" && rec.error?.code !== "aborted") {
          rec.slo = judgeRequest(rec, criteria);
        }
        this.hooks.onRecord?.(rec);
        this.watchForFatal(rec);
        if (rec.phase !== "measure" || rec.error?.code === "aborted") return;
        agg.add(rec);
        turns?.add(rec);
        if (plan.maxErrorRate !== undefined && agg.sent >= MIN_FOR_ERROR_RATE) {
          const rate = (agg.error + agg.incomplete) / agg.sent;
          if (rate > plan.maxErrorRate)
            this.stop({ kind: "max-error-rate", level: info.scenario, errorRate: rate });
        }
        const failed = abortingObjective(objectives, agg);
        if (failed) this.stop({ kind: "abort-on-fail", level: info.scenario, objective: failed });
      },
    };
    const bounds = {
      warmup,
      n: plan.n,
      durationMs: plan.durationS !== undefined ? plan.durationS * 1000 : undefined,
    };
    if (level.kind === "concurrency") {
      await runClosedLoop(level.concurrency, bounds, io);
    } else if (level.kind === "trace") {
      await runTraceLoop(level.rows(), level.speed, io);
    } else if (level.kind === "sessions") {
      await runSessionLoop({ ...level.plan, keepText: plan.send.keepText ?? false }, io);
    } else {
      const arrivals = { ...plan.arrivals, rate: level.rate };
      await runOpenLoop(
        { arrivals, seed: plan.workload.seed + this.seq, maxConcurrency: plan.maxConcurrency },
        bounds,
        io,
      );
    }
    const view = await plan.server?.finish();
    const server =
      view && seenByServer.count > 0
        ? {
            ...view,
            client_ttft_mean_ms: seenByServer.sumMs / seenByServer.count,
            client_ttft_count: seenByServer.count,
            client_first_chunk_tokens: seenByServer.firstChunkTokens / seenByServer.count,
          }
        : view;
    if (agg.sent === 0) return undefined;
    const lag = agg.dist.send_lag_ms;
    const validity = health.finish(
      lag.count > 0 ? lag.percentile(99) : null,
      plan.validity ?? DEFAULT_VALIDITY,
      level.kind !== "concurrency",
      level.kind === "rate" ? plan.maxConcurrency : undefined,
    );
    const result: LevelResult = {
      summary: {
        ...agg.summary(),
        in_flight_peak: flight.peak,
        ...(turns ? { sessions: turns.summary() } : {}),
      },
      objectives: evaluateObjectives(objectives, agg),
      validity,
      server,
    };
    this.hooks.onLevelEnd?.(result);
    return result;
  }

  /** Fails fast when the first requests all fail alike with a code that retrying cannot fix. */
  private watchForFatal(rec: RequestRecord): void {
    if (this.seen >= FATAL_AFTER || rec.error?.code === "aborted") return;
    this.seen++;
    const code = rec.error?.code;
    if (rec.outcome === "error" && code && FATAL_CODES.has(code)) this.sameFailures++;
    if (this.sameFailures === FATAL_AFTER && rec.error) {
      this.stop({ kind: "fatal", error: { code: rec.error.code, message: rec.error.message } });
    }
  }
}

export interface BenchResult {
  levels: LevelResult[];
  stopReason?: StopReason;
}

/** Runs each level of a fixed list in turn. */
export async function runBench(
  plan: BenchPlan,
  levels: LoadLevel[],
  dispatcher: GenerationDispatcher,
  clock: Clock,
  hooks: BenchHooks = {},
  signal?: AbortSignal,
): Promise<BenchResult> {
  const runner = new BenchRunner(plan, dispatcher, clock, hooks, signal);
  const results: LevelResult[] = [];
  for (const level of levels) {
    if (runner.stopped) break;
    const r = await runner.runLevel(level);
    if (r) results.push(r);
  }
  return { levels: results, stopReason: runner.stopReason };
}
