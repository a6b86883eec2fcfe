import { setMaxListeners } from "node:events";
import type { Dispatcher } from "undici";
import type { Clock } from "../client/clock.js";
import { type SendOptions, sendGeneration } from "../client/generation-client.js";
import { buildRequestBody, type GenerationParams } from "../client/request-body.js";
import { LevelAggregate, type LevelInfo, type LevelSummary } from "../core/level-aggregate.js";
import { type PromptSpec, promptFor } from "../core/prompt-source.js";
import type { ErrorCode, Phase, RequestRecord } from "../core/record.js";
import { runClosedLoop } from "./closed-loop.js";

export interface BenchPlan {
  generation: GenerationParams;
  send: Omit<SendOptions, "signal">;
  prompt: PromptSpec;
  concurrencies: number[];
  /** Measured requests per level. */
  n: number;
  /** Warm-up requests per level; undefined = one per concurrent user. */
  warmup?: number;
}

export interface BenchHooks {
  onLevelStart?(level: LevelInfo, total: number): void;
  /** Every record, warm-up included, as soon as it completes (write it to disk here). */
  onRecord?(rec: RequestRecord): void;
  onLevelEnd?(summary: LevelSummary): void;
}

export interface FatalError {
  code: ErrorCode;
  message: string;
}

export interface BenchResult {
  levels: LevelSummary[];
  /** Set when the endpoint failed every one of the first requests the same way: not worth going on. */
  fatal?: FatalError;
  interrupted: boolean;
}

/** Failures that no amount of retrying fixes: wrong URL, wrong key, wrong kind of server. */
const FATAL_CODES = new Set<string>([
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

/** Runs each concurrency level in turn: warm-up, then n measured requests, streaming records out. */
export async function runBench(
  plan: BenchPlan,
  dispatcher: Dispatcher,
  clock: Clock,
  hooks: BenchHooks = {},
  signal?: AbortSignal,
): Promise<BenchResult> {
  const levels: LevelSummary[] = [];
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per in-flight request
  const onAbort = () => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let fatal: FatalError | undefined;
  let seen = 0;
  let sameFailures = 0;
  let seq = 0;
  const mode = plan.generation.stream ? "stream" : "no-stream";

  try {
    for (const concurrency of plan.concurrencies) {
      if (stop.signal.aborted) break;
      const info: LevelInfo = { scenario: `c=${concurrency}`, mode, concurrency };
      const agg = new LevelAggregate(info);
      const warmup = plan.warmup ?? concurrency;
      hooks.onLevelStart?.(info, warmup + plan.n);
      await runClosedLoop({
        concurrency,
        n: plan.n,
        warmup,
        signal: stop.signal,
        send: (phase: Phase) => {
          const index = seq++;
          const body = buildRequestBody(plan.generation, promptFor(plan.prompt, index));
          const now = clock.now();
          const meta = { id: `r${index}`, scenario: info.scenario, phase, intendedStartMs: now };
          return sendGeneration(dispatcher, clock, { ...plan.send, signal: stop.signal }, body, meta);
        },
        onRecord: (rec) => {
          hooks.onRecord?.(rec);
          if (rec.phase === "measure" && rec.error?.code !== "aborted") agg.add(rec);
          // Fail fast when the first requests all fail alike with a code that retrying cannot fix.
          if (seen < FATAL_AFTER) {
            seen++;
            const code = rec.error?.code;
            if (rec.outcome === "error" && code && FATAL_CODES.has(code)) sameFailures++;
            if (sameFailures === FATAL_AFTER && rec.error) {
              fatal = { code: rec.error.code, message: rec.error.message };
              stop.abort();
            }
          }
        },
      });
      if (agg.sent > 0) {
        const summary = agg.summary();
        levels.push(summary);
        hooks.onLevelEnd?.(summary);
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return { levels, fatal, interrupted: signal?.aborted ?? false };
}
