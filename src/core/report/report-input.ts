import type { Stats } from "../histogram.js";
import type { LevelSummary } from "../level-aggregate.js";
import type { ObjectiveResult } from "../slo-eval.js";

/** What the server said about itself during one level (from its /metrics), all times in ms. */
export interface ServerView {
  family: string;
  ttft_mean_ms?: number;
  ttft_p95_ms?: number;
  /** Requests in the server's TTFT histogram over the level (other clients' too, if any). */
  ttft_count?: number;
  /**
   * The client's mean TTFT over the same requests the server's numbers cover: every streamed request of
   * the level, warm-up included. The measured requests alone would set a warm-up-free client mean
   * against a server mean that has the warm-up in it.
   */
  client_ttft_mean_ms?: number;
  client_ttft_count?: number;
  /**
   * Mean tokens in those requests' first content chunk. Over 1, the client's first chunk came after the
   * server's first token by the time to decode the rest of it: not network.
   */
  client_first_chunk_tokens?: number;
  queue_mean_ms?: number;
  itl_mean_ms?: number;
  e2e_mean_ms?: number;
  running_peak?: number;
  waiting_peak?: number;
  kv_usage_peak?: number;
  /** How many readings of the gauges the peaks come from: with fewer than 3 a peak is not shown. */
  gauge_readings?: number;
  /** llama.cpp: decode time per generated token (generation seconds / tokens), ms. */
  decode_ms_per_token?: number;
  /** llama.cpp: prompt processing time per prompt token (cached tokens excluded), ms. */
  prefill_ms_per_token?: number;
  /** Metric names the numbers came from, for "what to watch". */
  names: Record<string, string>;
}

export interface ReportLevel {
  summary: LevelSummary;
  objectives: ObjectiveResult[];
  valid: boolean;
  /** Why the level is invalid, as the run recorded it (summary.json's validity.reasons). */
  invalidReasons?: string[];
  /** What the run noted about its own measurement (validity.warnings): a long stall, a busy machine. */
  measurementNotes?: string[];
  server?: ServerView;
}

/** Why a run ended before its plan did: summary.json's stop_reason, flattened. */
export interface RunStopView {
  kind: "interrupted" | "fatal" | "max-error-rate" | "abort-on-fail" | string;
  /** The level the stop came from, when the reason names one. */
  level?: string;
  errorRate?: number;
  objective?: string;
  errorCode?: string;
}

export interface BaselineView {
  plain_wall_ms: Stats;
  tiny_wall_ms: Stats;
  tiny_ttft_ms: Stats;
}

/** One time bin of the run: requests in flight and tokens received per second. */
export interface TimePoint {
  t_s: number;
  in_flight: number;
  tokens_per_s: number;
}

/** One request on the timeline, times in seconds from the run's start. */
export interface TimelineRequest {
  index: number;
  scenario: string;
  start_s: number;
  first_s?: number;
  end_s: number;
  outcome: string;
}

/** Everything a report is written from; built by the reader from a run folder, tested from fixtures. */
export interface ReportInput {
  runId: string;
  startedAt: string;
  url: string;
  model: string;
  api: string;
  simulator: boolean;
  levels: ReportLevel[];
  baseline?: BaselineView;
  capacity?: { mode: string; capacity: number | null; failed_at: number | null };
  /** Set when the run stopped before its plan did. */
  stop?: RunStopView;
  /** The levels asked for, in order, as scenario names; undefined when a sweep or search chose them. */
  planned?: string[];
  /** Measured requests asked of each level; undefined when --duration bounded the levels instead. */
  requestedN?: number;
  series: TimePoint[];
  timeline: TimelineRequest[];
}
