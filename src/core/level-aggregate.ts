import { Distribution, type SerializedDistribution, type Stats } from "./histogram.js";
import type { RequestRecord, TokenSource } from "./record.js";
import { requestMetrics } from "./request-metrics.js";

export type Mode = "stream" | "no-stream";

/** The distributions a level keeps; latency ones in ms, token ones in tokens. */
export const DISTRIBUTIONS = [
  "ttft_ms",
  "ttft_queued_ms",
  "tpot_ms",
  "itl_chunk_ms",
  "itl_token_ms",
  "e2e_ms",
  "wall_ms",
  "jitter_ms",
  "output_tokens",
  "input_tokens",
] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

export interface LevelInfo {
  scenario: string;
  mode: Mode;
  concurrency?: number;
  rate?: number;
}

export interface LevelSummary extends LevelInfo {
  /** Measured requests sent (warm-up excluded). sent = ok + error + incomplete. */
  n: number;
  ok: number;
  error: number;
  incomplete: number;
  errors_by_code: Record<string, number>;
  median_wall_s: number;
  p95_wall_s: number;
  duration_s: number;
  request_throughput: number;
  output_token_throughput: number;
  total_output_tokens: number;
  total_input_tokens: number;
  token_source: Record<TokenSource, number>;
  ttft_ms: Stats;
  ttft_queued_ms: Stats;
  tpot_ms: Stats;
  itl_chunk_ms: Stats;
  itl_token_ms: Stats;
  e2e_ms: Stats;
  wall_ms: Stats;
  jitter_ms: Stats;
  output_tokens: Stats;
  input_tokens: Stats;
  /** Serialised histograms, so levels from several runs or machines merge exactly. */
  distributions: Record<DistributionName, SerializedDistribution>;
}

/**
 * Aggregates the records of one load level into mergeable distributions and counters; memory is
 * constant in the number of requests. Latency distributions take successful requests only (errors
 * and broken streams are counted, not timed), as vLLM's `bench serve` does.
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
  readonly errorsByCode: Record<string, number> = {};
  readonly tokenSource: Record<TokenSource, number> = { usage: 0, tokenizer: 0, chunks: 0 };
  totalOutputTokens = 0;
  totalInputTokens = 0;
  firstStartMs = Number.POSITIVE_INFINITY;
  lastEndMs = Number.NEGATIVE_INFINITY;

  constructor(readonly info: LevelInfo) {}

  add(r: RequestRecord): void {
    this.sent++;
    this[r.outcome]++;
    if (r.error) this.errorsByCode[r.error.code] = (this.errorsByCode[r.error.code] ?? 0) + 1;
    if (r.startMs < this.firstStartMs) this.firstStartMs = r.startMs;
    const end = r.endMs ?? r.chunkTimesMs[r.chunkTimesMs.length - 1] ?? r.startMs;
    if (end > this.lastEndMs) this.lastEndMs = end;
    if (r.outcome !== "ok") return;

    const m = requestMetrics(r);
    const d = this.dist;
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
    if (m.e2eMs !== undefined) d.e2e_ms.record(m.e2eMs);
    if (m.wallMs !== undefined) d.wall_ms.record(m.wallMs);
    if (m.jitterMs !== undefined) d.jitter_ms.record(m.jitterMs);
    const t = r.chunkTimesMs;
    for (let i = 1; i < t.length; i++) {
      const gap = (t[i] as number) - (t[i - 1] as number);
      const k = r.chunkTokens[i] ?? 1;
      d.itl_chunk_ms.record(gap);
      d.itl_token_ms.record(gap / k, k);
    }
  }

  summary(): LevelSummary {
    const duration = this.sent > 0 ? Math.max(0, this.lastEndMs - this.firstStartMs) / 1000 : 0;
    const stats = Object.fromEntries(DISTRIBUTIONS.map((k) => [k, this.dist[k].stats()])) as Record<
      DistributionName,
      Stats
    >;
    return {
      ...this.info,
      n: this.sent,
      ok: this.ok,
      error: this.error,
      incomplete: this.incomplete,
      errors_by_code: { ...this.errorsByCode },
      median_wall_s: stats.wall_ms.p50 / 1000,
      p95_wall_s: stats.wall_ms.p95 / 1000,
      duration_s: duration,
      request_throughput: duration > 0 ? this.ok / duration : 0,
      output_token_throughput: duration > 0 ? this.totalOutputTokens / duration : 0,
      total_output_tokens: this.totalOutputTokens,
      total_input_tokens: this.totalInputTokens,
      token_source: { ...this.tokenSource },
      ...stats,
      distributions: Object.fromEntries(DISTRIBUTIONS.map((k) => [k, this.dist[k].toJSON()])) as Record<
        DistributionName,
        SerializedDistribution
      >,
    };
  }
}
