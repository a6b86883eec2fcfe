import { fluidityIndex } from "./fluidity.js";
import { Distribution, type SerializedDistribution, type Stats } from "./histogram.js";
import { playback } from "./playback.js";
import type { RequestRecord, TokenSource } from "./record.js";
import { requestMetrics } from "./request-metrics.js";
import type { SloSpec } from "./slo-spec.js";
import type { SessionsSummary } from "./turn-aggregate.js";

export type Mode = "stream" | "no-stream";

/** The distributions a level keeps: latencies in ms, the rest in their own unit. */
export const DISTRIBUTIONS = [
  "ttft_ms",
  "ttft_queued_ms",
  "tpot_ms",
  "itl_chunk_ms",
  "itl_token_ms",
  "e2e_ms",
  "e2e_queued_ms",
  "wall_ms",
  "jitter_ms",
  "send_lag_ms",
  "output_tokens",
  "input_tokens",
  "fluidity",
  "perceived_ttft_ms",
  "stalls",
  "stall_ms",
] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

/** Distributions of whole numbers: their percentiles are whole numbers too (their means are not). */
const COUNT_DISTRIBUTIONS = new Set<DistributionName>(["output_tokens", "input_tokens", "stalls"]);

export interface LevelInfo {
  scenario: string;
  mode: Mode;
  concurrency?: number;
  /** Offered request rate (open loop), requests per second. */
  rate?: number;
}

export interface GoodputSummary {
  /** Requests that were ok and met every per-request criterion. */
  good: number;
  /** good / n; errors and broken streams count against it. */
  share: number;
  /** good requests per second. */
  rate: number;
  /** How many requests missed each criterion ("outcome" = error or broken stream). */
  missed_by: Record<string, number>;
}

export interface QualitySummary {
  /** ok requests whose answer was checked. */
  checked: number;
  passed: number;
  /** Model quality: passed / checked. */
  pass_rate: number;
  /** Infrastructure: ok / n. */
  infra_success_rate: number;
  /** What users get: pass_rate x infra_success_rate. */
  e2e_quality: number;
}

export interface LevelSummary extends LevelInfo {
  /** Measured requests sent (warm-up and cool-down excluded). n = ok + error + incomplete. */
  n: number;
  ok: number;
  error: number;
  incomplete: number;
  errors_by_code: Record<string, number>;
  median_wall_s: number;
  p95_wall_s: number;
  duration_s: number;
  /** Sends per second achieved (open loop: compare with `rate`); null with fewer than two sends. */
  achieved_rate: number | null;
  request_throughput: number;
  output_token_throughput: number;
  total_output_tokens: number;
  total_input_tokens: number;
  token_source: Record<TokenSource, number>;
  goodput: GoodputSummary;
  quality?: QualitySummary;
  /** The most requests the client had in flight at once in the level (all phases), exact. */
  in_flight_peak?: number;
  /** Multi-turn runs: figures by turn index and by session. */
  sessions?: SessionsSummary;
  ttft_ms: Stats;
  ttft_queued_ms: Stats;
  tpot_ms: Stats;
  itl_chunk_ms: Stats;
  itl_token_ms: Stats;
  e2e_ms: Stats;
  e2e_queued_ms: Stats;
  wall_ms: Stats;
  jitter_ms: Stats;
  send_lag_ms: Stats;
  output_tokens: Stats;
  input_tokens: Stats;
  fluidity: Stats;
  perceived_ttft_ms: Stats;
  stalls: Stats;
  stall_ms: Stats;
  /** Serialised histograms, so levels from several runs or machines merge exactly. */
  distributions: Record<DistributionName, SerializedDistribution>;
}

/**
 * Aggregates the measured records of one load level into mergeable distributions and counters;
 * memory is constant in the number of requests. Latency distributions take successful requests
 * only (errors and broken streams are counted, not timed), as vLLM's `bench serve` does.
 */
export class LevelAggregate {
  readonly dist = Object.fromEntries(DISTRIBUTIONS.map((k) => [k, new Distribution()])) as Record<
    DistributionName,
    Distribution
  >;
  sent = 0;
  ok = 0;
  error = 0;
  incomplete = 0;
  good = 0;
  qualityChecked = 0;
  qualityPassed = 0;
  readonly errorsByCode: Record<string, number> = {};
  readonly missedBy: Record<string, number> = {};
  readonly tokenSource: Record<TokenSource, number> = { usage: 0, tokenizer: 0, chunks: 0 };
  totalOutputTokens = 0;
  totalInputTokens = 0;
  firstStartMs = Number.POSITIVE_INFINITY;
  lastStartMs = Number.NEGATIVE_INFINITY;
  lastEndMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly info: LevelInfo,
    private readonly slo?: SloSpec,
  ) {}

  add(r: RequestRecord): void {
    // A request the run's stop cut short was never measured (README "Outcomes").
    if (r.outcome === "aborted") return;
    this.sent++;
    this[r.outcome]++;
    if (r.error) this.errorsByCode[r.error.code] = (this.errorsByCode[r.error.code] ?? 0) + 1;
    if (r.startMs < this.firstStartMs) this.firstStartMs = r.startMs;
    if (r.startMs > this.lastStartMs) this.lastStartMs = r.startMs;
    const end = r.endMs ?? r.chunkTimesMs[r.chunkTimesMs.length - 1] ?? r.startMs;
    if (end > this.lastEndMs) this.lastEndMs = end;
    const d = this.dist;
    d.send_lag_ms.record(r.startMs - r.intendedStartMs);
    if (r.slo) {
      if (r.slo.good) this.good++;
      for (const c of r.slo.missed) this.missedBy[c] = (this.missedBy[c] ?? 0) + 1;
      if (r.slo.quality !== undefined) {
        this.qualityChecked++;
        if (r.slo.quality) this.qualityPassed++;
      }
    } else if (r.outcome === "ok") {
      this.good++; // no criteria: every successful request is good
    } else {
      this.missedBy.outcome = (this.missedBy.outcome ?? 0) + 1;
    }
    if (r.outcome !== "ok") return;

    const m = requestMetrics(r);
    this.tokenSource[r.tokenSource]++;
    this.totalOutputTokens += m.outputTokens;
    d.output_tokens.record(m.outputTokens);
    if (r.promptTokens !== undefined) {
      this.totalInputTokens += r.promptTokens;
      d.input_tokens.record(r.promptTokens);
    }
    if (m.ttftMs !== undefined) d.ttft_ms.record(m.ttftMs);
    if (m.ttftQueuedMs !== undefined) d.ttft_queued_ms.record(m.ttftQueuedMs);
    if (m.tpotMs !== undefined) d.tpot_ms.record(m.tpotMs);
    if (m.e2eMs !== undefined) {
      d.e2e_ms.record(m.e2eMs);
      d.e2e_queued_ms.record(m.e2eMs + r.startMs - r.intendedStartMs);
    }
    if (m.wallMs !== undefined) d.wall_ms.record(m.wallMs);
    if (m.jitterMs !== undefined) d.jitter_ms.record(m.jitterMs);
    const t = r.chunkTimesMs;
    for (let i = 1; i < t.length; i++) {
      const gap = (t[i] as number) - (t[i - 1] as number);
      const k = r.chunkTokens[i] ?? 1;
      d.itl_chunk_ms.record(gap);
      d.itl_token_ms.record(gap / k, k);
    }
    // Fluidity and playback judge token pacing: an answer sent whole has none to judge.
    if (r.firstContentMs === undefined) return;
    if (this.slo?.fluidity) {
      const f = fluidityIndex(r, this.slo.fluidity);
      if (f !== undefined) d.fluidity.record(f);
    }
    if (this.slo?.playback) {
      const p = playback(r, this.slo.playback);
      if (p) {
        d.perceived_ttft_ms.record(p.perceivedTtftMs);
        d.stalls.record(p.stalls);
        d.stall_ms.record(p.stallMs);
      }
    }
  }

  /** Span of the level: first send to last completion, in seconds. */
  get durationS(): number {
    return this.sent > 0 ? Math.max(0, this.lastEndMs - this.firstStartMs) / 1000 : 0;
  }

  summary(): LevelSummary {
    const duration = this.durationS;
    const perS = (x: number) => (duration > 0 ? x / duration : 0);
    const sendSpan = (this.lastStartMs - this.firstStartMs) / 1000;
    const stats = Object.fromEntries(
      DISTRIBUTIONS.map((k) => [k, this.dist[k].stats(COUNT_DISTRIBUTIONS.has(k))]),
    ) as Record<DistributionName, Stats>;
    const share = (x: number) => (this.sent > 0 ? x / this.sent : 0);
    const summary: LevelSummary = {
      ...this.info,
      n: this.sent,
      ok: this.ok,
      error: this.error,
      incomplete: this.incomplete,
      errors_by_code: { ...this.errorsByCode },
      median_wall_s: stats.wall_ms.p50 / 1000,
      p95_wall_s: stats.wall_ms.p95 / 1000,
      duration_s: duration,
      // One send has no rate: null, not 0 (which reads as a client that sent nothing).
      achieved_rate: sendSpan > 0 ? (this.sent - 1) / sendSpan : null,
      request_throughput: perS(this.ok),
      output_token_throughput: perS(this.totalOutputTokens),
      total_output_tokens: this.totalOutputTokens,
      total_input_tokens: this.totalInputTokens,
      token_source: { ...this.tokenSource },
      goodput: {
        good: this.good,
        share: share(this.good),
        rate: perS(this.good),
        missed_by: { ...this.missedBy },
      },
      ...stats,
      distributions: Object.fromEntries(DISTRIBUTIONS.map((k) => [k, this.dist[k].toJSON()])) as Record<
        DistributionName,
        SerializedDistribution
      >,
    };
    if (this.qualityChecked > 0) {
      const passRate = this.qualityPassed / this.qualityChecked;
      const infra = share(this.ok);
      summary.quality = {
        checked: this.qualityChecked,
        passed: this.qualityPassed,
        pass_rate: passRate,
        infra_success_rate: infra,
        e2e_quality: passRate * infra,
      };
    }
    return summary;
  }
}
