import {
  type Bucket,
  type CounterSeries,
  FAMILIES,
  type GaugeReading,
  type GaugeSeries,
  type HistogramSeries,
  type HistogramValue,
  type ServerFamily,
  type ServerSnapshot,
} from "./server-families.js";

/**
 * What the server saw during one load level: the difference of two scrapes (before and after) plus
 * the gauge readings taken in between. Convention: a value that cannot be computed is `undefined`
 * (absent from the object, so JSON drops it), never NaN or null; `missing` says why.
 */

export interface HistogramDelta {
  /** The metric the numbers come from. */
  metric: string;
  /** Observations during the interval. With 0, the fields below are absent. */
  count: number;
  /** Exact: delta _sum / delta _count. */
  mean_ms?: number;
  /** Estimated from bucket deltas as Prometheus' histogram_quantile does (linear within a bucket). */
  p50_ms?: number;
  p90_ms?: number;
  p95_ms?: number;
  p99_ms?: number;
}

export interface GaugeSummary {
  peak: number;
  /** Mean of the readings (readings are assumed evenly spaced in time). */
  mean: number;
  readings: number;
}

/** Output fields a family may be unable to fill; the keys of `missing`. */
export type DeltaField = HistogramSeries | GaugeSeries | "gen_ms_per_token" | "prompt_ms_per_token";

export interface ServerMetricsDelta {
  family: ServerFamily;
  ttft?: HistogramDelta;
  queue?: HistogramDelta;
  itl?: HistogramDelta;
  e2e?: HistogramDelta;
  running?: GaugeSummary;
  waiting?: GaugeSummary;
  kv_usage?: GaugeSummary;
  /** llama.cpp: generation time summed over slots / tokens generated, i.e. a mean per-sequence ITL. */
  gen_ms_per_token?: number;
  /** llama.cpp: prompt processing time / prompt tokens processed (cached tokens excluded). */
  prompt_ms_per_token?: number;
  /** Why each field the family could have filled is absent. */
  missing: Partial<Record<DeltaField, string>>;
}

/** A computed value, or the reason it could not be computed. */
export type Outcome<T> = { value: T } | { unusable: string };

const RESET = "a counter went backwards (server restarted during the interval?): interval unusable";

/**
 * The q-quantile (0..1) of cumulative buckets, the way Prometheus' histogram_quantile computes it:
 * find the bucket holding rank q*count, interpolate linearly inside it, take 0 as the lower edge of
 * the first bucket (when its bound is positive), and answer the highest finite bound when the rank
 * falls in the +Inf bucket. Where Prometheus answers NaN (no observations, no +Inf bucket, fewer
 * than two buckets) or q is outside 0..1, this answers undefined.
 * Reference: https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  if (!(q >= 0 && q <= 1)) return undefined;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1]?.le !== Number.POSITIVE_INFINITY) return undefined;
  // Like Prometheus, force monotonic counts (scrapes are not atomic across buckets).
  let max = 0;
  const b = sorted.map(({ le, count }) => {
    max = Math.max(max, count);
    return { le, count: max };
  });
  const total = max;
  if (total <= 0) return undefined;
  let rank = q * total;
  const i = b.findIndex((x) => x.count >= rank);
  const hit = b[i] as Bucket;
  if (i === b.length - 1) return (b[i - 1] as Bucket).le;
  if (i === 0 && hit.le <= 0) return hit.le;
  let start = 0;
  let inBucket = hit.count;
  if (i > 0) {
    const prev = b[i - 1] as Bucket;
    start = prev.le;
    inBucket -= prev.count;
    rank -= prev.count;
  }
  if (inBucket <= 0) return start; // q = 0 over an empty first bucket: Prometheus would divide 0 by 0
  return start + (hit.le - start) * (rank / inBucket);
}

const QUANTILES = [
  ["p50_ms", 0.5],
  ["p90_ms", 0.9],
  ["p95_ms", 0.95],
  ["p99_ms", 0.99],
] as const;

function sameBounds(a: readonly Bucket[], b: readonly Bucket[]): boolean {
  return a.length === b.length && a.every((x, i) => x.le === b[i]?.le);
}

/**
 * Observations between two scrapes of one histogram. `before` absent means the series appeared
 * during the interval (prom-client shows a labelled histogram only once observed): it counts from 0.
 */
export function diffHistogram(
  before: HistogramValue | undefined,
  after: HistogramValue,
): Outcome<HistogramDelta> {
  const base = before ?? {
    metric: after.metric,
    buckets: after.buckets.map(({ le }) => ({ le, count: 0 })),
    sum: 0,
    count: 0,
  };
  if (base.metric !== after.metric || !sameBounds(base.buckets, after.buckets)) {
    return { unusable: "metric name or bucket bounds changed between scrapes (server restarted?)" };
  }
  const count = after.count - base.count;
  const buckets = after.buckets.map((x, i) => ({ le: x.le, count: x.count - (base.buckets[i]?.count ?? 0) }));
  const sum = after.sum !== undefined && base.sum !== undefined ? after.sum - base.sum : undefined;
  if (count < 0 || buckets.some((x) => x.count < 0) || (sum !== undefined && sum < 0))
    return { unusable: RESET };
  const delta: HistogramDelta = { metric: after.metric, count };
  if (count === 0) return { value: delta };
  if (sum !== undefined) delta.mean_ms = (sum / count) * 1000;
  for (const [field, q] of QUANTILES) {
    const v = histogramQuantile(q, buckets);
    if (v !== undefined) delta[field] = v * 1000;
  }
  return { value: delta };
}

/** Peak and mean of one gauge over the readings that carry it. */
export function summarizeGauge(
  readings: readonly GaugeReading[],
  series: GaugeSeries,
): GaugeSummary | undefined {
  let peak = Number.NEGATIVE_INFINITY;
  let total = 0;
  let n = 0;
  for (const r of readings) {
    const v = r[series];
    if (v === undefined || !Number.isFinite(v)) continue;
    peak = Math.max(peak, v);
    total += v;
    n++;
  }
  return n === 0 ? undefined : { peak, mean: total / n, readings: n };
}

/** Milliseconds per token from two time/token counter pairs (llama.cpp). */
function msPerToken(
  before: ServerSnapshot,
  after: ServerSnapshot,
  seconds: CounterSeries,
  tokens: CounterSeries,
): Outcome<number> {
  const s1 = after.counters[seconds];
  const t1 = after.counters[tokens];
  if (s1 === undefined || t1 === undefined) return { unusable: `not in the scrape (${seconds}, ${tokens})` };
  const ds = s1 - (before.counters[seconds] ?? 0);
  const dt = t1 - (before.counters[tokens] ?? 0);
  if (ds < 0 || dt < 0) return { unusable: RESET };
  if (dt === 0) return { unusable: "no tokens in the interval" };
  return { value: (ds / dt) * 1000 };
}

const HISTOGRAMS: readonly HistogramSeries[] = ["ttft", "queue", "itl", "e2e"];
const GAUGES: readonly GaugeSeries[] = ["running", "waiting", "kv_usage"];

/**
 * Server-side numbers for one interval. `readings` are the gauge values sampled between the two
 * scrapes (pass `snapshot.gauges`); include before/after's own gauges in it if they should count.
 */
export function serverMetricsDelta(
  before: ServerSnapshot,
  after: ServerSnapshot,
  readings: readonly GaugeReading[] = [],
): ServerMetricsDelta {
  const family = after.family;
  const spec = FAMILIES[family];
  const out: ServerMetricsDelta = { family, missing: {} };
  const notes: Partial<Record<string, string>> = spec.notes;
  const why = (field: DeltaField, reason: string) => {
    const note = notes[field];
    out.missing[field] = note === undefined ? reason : `${note}; ${reason}`;
  };
  const sameFamily = before.family === family;

  for (const series of HISTOGRAMS) {
    const names = spec.histograms[series];
    const h = after.histograms[series];
    if (!names) {
      out.missing[series] = spec.notes[series] ?? `${family} has no ${series} histogram`;
    } else if (!h) {
      why(series, `not in the scrape (${names.join(" or ")})`);
    } else if (!sameFamily) {
      why(series, "the two scrapes come from different server families");
    } else {
      const d = diffHistogram(before.histograms[series], h);
      if ("value" in d) out[series] = d.value;
      else why(series, d.unusable);
    }
  }

  for (const series of GAUGES) {
    const s = summarizeGauge(readings, series);
    if (s) out[series] = s;
    else if (!spec.gauges[series])
      out.missing[series] = spec.notes[series] ?? `${family} has no ${series} gauge`;
    else why(series, "no readings carried it");
  }

  if (family === "llamacpp") {
    const pairs = [
      ["gen_ms_per_token", "gen_seconds", "gen_tokens"],
      ["prompt_ms_per_token", "prompt_seconds", "prompt_tokens"],
    ] as const;
    for (const [field, seconds, tokens] of pairs) {
      const v = sameFamily
        ? msPerToken(before, after, seconds, tokens)
        : { unusable: "the two scrapes come from different server families" };
      if ("value" in v) out[field] = v.value;
      else why(field, v.unusable);
    }
  }
  return out;
}
