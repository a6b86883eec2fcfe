/**
 * Aggregate objectives in k6's threshold spirit: "ttft p(95) < 300ms", "goodput >= 0.9",
 * "error_rate < 0.1%". A distribution metric takes an aggregation (p(N), avg, med, min, max).
 */

export const DISTRIBUTION_METRICS = {
  ttft: "ttft_ms",
  ttft_queued: "ttft_queued_ms",
  tpot: "tpot_ms",
  itl: "itl_token_ms",
  itl_chunk: "itl_chunk_ms",
  e2e: "e2e_ms",
  wall: "wall_ms",
  jitter: "jitter_ms",
  send_lag: "send_lag_ms",
  fluidity: "fluidity",
  perceived_ttft: "perceived_ttft_ms",
  stalls: "stalls",
  stall_time: "stall_ms",
} as const;

export const RATE_METRICS = [
  "goodput",
  "goodput_rate",
  "success_rate",
  "error_rate",
  "drop_rate",
  "quality_pass_rate",
  "e2e_quality",
  "request_throughput",
  "output_token_throughput",
] as const;

export type DistributionMetric = keyof typeof DISTRIBUTION_METRICS;
export type RateMetric = (typeof RATE_METRICS)[number];
export type Aggregation = { kind: "percentile"; p: number } | { kind: "avg" | "min" | "max" };
export type Comparison = "<" | "<=" | ">" | ">=" | "==" | "!=";

export interface Objective {
  /** The text as written, for reports. */
  text: string;
  metric: DistributionMetric | RateMetric;
  aggregation?: Aggregation;
  op: Comparison;
  /** In ms for latency metrics, a plain number otherwise. */
  value: number;
  abortOnFail: boolean;
  /** With abortOnFail: measured requests to wait for before judging mid-run. */
  abortAfter: number;
}

export class ObjectiveError extends Error {}

/** Metrics that are shares of requests (0 to 1), so "%" applies and a value over 1 is a slip. */
const SHARES = new Set<string>([
  "goodput",
  "success_rate",
  "error_rate",
  "drop_rate",
  "quality_pass_rate",
  "e2e_quality",
  "fluidity",
]);

const LATENCY = new Set<string>([
  "ttft",
  "ttft_queued",
  "tpot",
  "itl",
  "itl_chunk",
  "e2e",
  "wall",
  "jitter",
  "send_lag",
  "perceived_ttft",
  "stall_time",
]);

const PATTERN =
  /^\s*([a-z_][a-z0-9_]*)\s*(?:(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|mean|med|min|max)\s*)?(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(us|ms|s|%)?\s*$/i;

export function parseObjective(text: string, abortOnFail = false, abortAfter = 20): Objective {
  const m = PATTERN.exec(text);
  const hint = 'write e.g. "ttft p(95) < 300ms", "goodput >= 0.9" or "error_rate < 0.1%"';
  if (!m)
    throw new ObjectiveError(
      `objective "${text}" is not of the form METRIC [p(N)|avg|med|min|max] OP VALUE: ${hint}`,
    );
  const [, name = "", agg, pct, op = "<", num = "0", unit] = m;
  const metric = name.toLowerCase();
  let value = Number(num);
  const isDist = metric in DISTRIBUTION_METRICS;
  if (!isDist && !(RATE_METRICS as readonly string[]).includes(metric)) {
    const known = [...Object.keys(DISTRIBUTION_METRICS), ...RATE_METRICS].join(", ");
    throw new ObjectiveError(`objective "${text}": unknown metric "${name}"; known: ${known}`);
  }
  let aggregation: Aggregation | undefined;
  if (isDist) {
    if (!agg)
      throw new ObjectiveError(
        `objective "${text}": ${metric} needs an aggregation such as p(95), avg or max`,
      );
    const a = agg.toLowerCase();
    if (pct !== undefined) {
      const p = Number(pct);
      if (p <= 0 || p > 100)
        throw new ObjectiveError(`objective "${text}": the percentile must be in (0, 100]`);
      aggregation = { kind: "percentile", p };
    } else if (a === "med") aggregation = { kind: "percentile", p: 50 };
    else aggregation = { kind: a === "mean" ? "avg" : (a as "avg" | "min" | "max") };
  } else if (agg) {
    throw new ObjectiveError(`objective "${text}": ${metric} is a single number; drop "${agg}"`);
  }
  if (unit === "%") {
    if (!SHARES.has(metric))
      throw new ObjectiveError(
        `objective "${text}": ${metric} is ${LATENCY.has(metric) ? "a time: write ms, s or us" : "not a share"}, not %`,
      );
    value /= 100;
  } else if (unit !== undefined) {
    if (!LATENCY.has(metric)) throw new ObjectiveError(`objective "${text}": ${metric} takes no time unit`);
    value = unit === "s" ? value * 1000 : unit === "us" ? value / 1000 : value;
  }
  if (SHARES.has(metric) && value > 1)
    throw new ObjectiveError(
      `objective "${text}": ${metric} is a share from 0 to 1: write ${value / 100} or ${value}%`,
    );
  return {
    text: text.trim(),
    metric: metric as Objective["metric"],
    aggregation,
    op: op as Comparison,
    value,
    abortOnFail,
    abortAfter,
  };
}

export function compare(observed: number, op: Comparison, value: number): boolean {
  switch (op) {
    case "<":
      return observed < value;
    case "<=":
      return observed <= value;
    case ">":
      return observed > value;
    case ">=":
      return observed >= value;
    case "==":
      return observed === value;
    case "!=":
      return observed !== value;
  }
}

/**
 * An objective's observed value in its own terms: a rate written as a percentage ("error_rate < 1%")
 * as one, a time through `time` (ms), counts and ratios as plain numbers.
 */
export function observedText(v: number | null, objective: string, time: (ms: number) => string): string {
  if (v === null) return "no data";
  const metric = (objective.trim().split(/[\s<>=!]/)[0] ?? "").toLowerCase();
  if ((RATE_METRICS as readonly string[]).includes(metric) && objective.includes("%"))
    return `${Number((100 * v).toPrecision(4))}%`;
  const field = (DISTRIBUTION_METRICS as Record<string, string>)[metric];
  return field?.endsWith("_ms") ? time(v) : Number(v.toPrecision(4)).toString();
}
