/**
 * One naming convention for everything production-facing: the proxy's metrics, the recording and
 * alerting rules, the dashboards, traces and logs. Changing a name here changes it everywhere.
 */

/** The label (metric) and attribute (trace, log) that name the service. */
export const SERVICE_LABEL = "service";
export const SERVICE_ATTRIBUTE = "service.name";
export const MODEL_LABEL = "model";
export const ROUTE_LABEL = "route";

/** Metrics the streamslo proxy exports (histograms in seconds). */
export const PROXY_METRICS = {
  requests: "streamslo_requests_total",
  ttft: "streamslo_ttft_seconds",
  tpot: "streamslo_tpot_seconds",
  itl: "streamslo_itl_seconds",
  e2e: "streamslo_e2e_seconds",
  outputTokens: "streamslo_output_tokens",
  activeStreams: "streamslo_active_streams",
  activeStreamsPeak: "streamslo_active_streams_peak",
  sloGood: "streamslo_slo_good_total",
  sloTotal: "streamslo_slo_requests_total",
  /** In-process gauges, exported when the proxy is given production SLOs. */
  liveBurnRate: "streamslo_slo_burn_rate",
  liveBudgetRemaining: "streamslo_slo_error_budget_remaining",
} as const;

/**
 * Outcome label values of streamslo_requests_total. Availability counts upstream_error, timeout and
 * rejected (shed by the proxy itself: --max-streams, or its drain) as bad; the drops SLI counts
 * upstream_drop; client_disconnect and client_error (a 4xx other than 429: the request was wrong) are
 * left out of every SLI.
 */
export const PROXY_OUTCOMES = [
  "ok",
  "upstream_error",
  "upstream_drop",
  "client_disconnect",
  "client_error",
  "timeout",
  "rejected",
] as const;

/** Outcomes availability counts as bad. */
export const UNAVAILABLE_OUTCOMES = "upstream_error|timeout|rejected";

/** Outcomes of streams that started: the drops SLI's events (one that never started is availability's). */
export const STARTED_OUTCOMES = "ok|upstream_drop";

/** Outcomes that say nothing about the service, so no SLI counts them. */
export const NOT_COUNTED_OUTCOMES = "client_disconnect|client_error";

/**
 * Bucket boundaries (seconds) of the proxy's histograms. Chosen for LLM serving: TTFT from tens of ms
 * to a minute, per-token latency from 5 ms to 1 s; close to the OpenTelemetry GenAI semantic
 * conventions' advice for gen_ai.server.time_to_first_token and time_per_output_token.
 */
export const PROXY_BUCKETS = {
  ttft: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60],
  tpot: [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5],
  itl: [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5],
  e2e: [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600],
  outputTokens: [1, 4, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
} as const;

/** Recording rules (Sloth-style names) that rules, dashboards and the budget command share. */
export const RULES = {
  errorRatio: (window: string) => `slo:sli_error:ratio_rate${window}`,
  objective: "slo:objective:ratio",
  errorBudget: "slo:error_budget:ratio",
  currentBurnRate: "slo:current_burn_rate:ratio",
  periodBurnRate: "slo:period_burn_rate:ratio",
  budgetRemaining: "slo:period_error_budget_remaining:ratio",
} as const;

/** Label that names the SLO on every slo:* series and alert. */
export const SLO_LABEL = "slo";
