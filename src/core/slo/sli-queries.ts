import {
  NOT_COUNTED_OUTCOMES,
  PROXY_BUCKETS,
  PROXY_METRICS,
  SERVICE_LABEL,
  STARTED_OUTCOMES,
  UNAVAILABLE_OUTCOMES,
} from "./conventions.js";
import type { LatencyMetric, ProductionSlo, ProductionSpec } from "./production-spec.js";

/** vLLM's buckets for its per-gap ITL and its per-request TPOT histograms: the same list. */
const VLLM_TOKEN_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
] as const;

/** vLLM's histogram buckets (vllm/v1/metrics/loggers.py), which its latency SLIs must use. */
export const VLLM_BUCKETS = {
  ttft: [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160,
    640, 2560,
  ],
  itl: VLLM_TOKEN_BUCKETS,
  tpot: VLLM_TOKEN_BUCKETS,
  e2e: [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
} as const;

export class SliError extends Error {}

/** A counter-based SLI: PromQL counters of bad and of all events. `le` formats differ by client library. */
export interface SliCounters {
  /** Instant-vector selectors; each is wrapped as sum(rate(<selector>[window])). */
  bad?: string;
  good?: string;
  total: string;
}

/** A label value as a PromQL string literal's body (backslash, quote and newline escaped). */
export function promString(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `{k="v",...}` with every value escaped: labels to match exactly, or to write on a series. */
export function labelSet(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${promString(v)}"`)
    .join(",")}}`;
}

function matchers(pairs: Record<string, string>): string {
  const inner = Object.entries(pairs)
    .map(([k, v]) =>
      v.startsWith("=~") || v.startsWith("!=") || v.startsWith("!~")
        ? `${k}${v.slice(0, 2)}"${promString(v.slice(2))}"`
        : `${k}="${promString(v)}"`,
    )
    .join(",");
  return `{${inner}}`;
}

/**
 * A series that exists whenever the SLI's exporter is scraped, with traffic or without: what the
 * "metrics absent" alert looks for. The proxy's request counters appear only with the first request,
 * so an idle or freshly restarted proxy would look absent; its active-streams gauge is there at once.
 */
export function presenceSeries(spec: ProductionSpec, slo: ProductionSlo): string {
  if (spec.source === "streamslo" && (slo.good === undefined || slo.total === undefined))
    return `${PROXY_METRICS.activeStreams}${matchers({ [SERVICE_LABEL]: spec.service })}`;
  return sliCounters(spec, slo).total;
}

/** prom-client writes le="1"; Python's prometheus_client writes le="1.0". */
export function leLabel(v: number, source: ProductionSpec["source"]): string {
  return source === "vllm" && Number.isInteger(v) ? `${v}.0` : String(v);
}

function bucketsFor(source: ProductionSpec["source"], metric: LatencyMetric): readonly number[] | undefined {
  if (source === "streamslo") return PROXY_BUCKETS[metric];
  if (source === "vllm") return VLLM_BUCKETS[metric];
  return undefined;
}

/**
 * vLLM's latency histograms. TPOT is its per-request mean (decode time over output tokens after the
 * first), one observation per request; ITL holds one observation per gap between tokens.
 */
export const VLLM_HISTOGRAMS: Readonly<Record<LatencyMetric, string>> = {
  ttft: "vllm:time_to_first_token_seconds",
  tpot: "vllm:request_time_per_output_token_seconds",
  itl: "vllm:inter_token_latency_seconds",
  e2e: "vllm:e2e_request_latency_seconds",
};

function histogramName(source: ProductionSpec["source"], metric: LatencyMetric): string {
  return source === "streamslo" ? PROXY_METRICS[metric] : VLLM_HISTOGRAMS[metric];
}

/** Checks a latency threshold against the histogram's buckets; the error lists the nearest ones. */
export function latencyBucket(spec: ProductionSpec, slo: ProductionSlo): number {
  const metric = slo.metric as LatencyMetric;
  const t = slo.thresholdS as number;
  const buckets = bucketsFor(spec.source, metric);
  if (!buckets) return t;
  if (buckets.some((b) => Math.abs(b - t) < 1e-12)) return t;
  const below = [...buckets].reverse().find((b) => b < t);
  const above = buckets.find((b) => b > t);
  const name = histogramName(spec.source, metric);
  const near = [below, above].filter((b) => b !== undefined).map((b) => `${(b as number) * 1000}ms`);
  throw new SliError(
    `slo "${slo.name}": threshold ${t * 1000}ms is not a bucket boundary of ${name}, so no rule can count requests under it; use ${near.join(" or ")} (boundaries: ${buckets.map((b) => b * 1000).join(", ")} ms)`,
  );
}

/** The counters behind one SLO, from the metric source the spec names. */
export function sliCounters(spec: ProductionSpec, slo: ProductionSlo): SliCounters {
  if (slo.good !== undefined && slo.total !== undefined) return { good: slo.good, total: slo.total };
  const svc = { [SERVICE_LABEL]: spec.service };
  if (spec.source === "streamslo") {
    const req = PROXY_METRICS.requests;
    // A client that hangs up or sends a wrong request is not the service's failure: left out of both sides.
    const counted = matchers({ ...svc, outcome: `!~${NOT_COUNTED_OUTCOMES}` });
    switch (slo.sli) {
      case "availability":
        return {
          bad: `${req}${matchers({ ...svc, outcome: `=~${UNAVAILABLE_OUTCOMES}` })}`,
          total: `${req}${counted}`,
        };
      case "drops":
        // Of the streams that started: a request refused or failed before its stream is availability's.
        return {
          bad: `${req}${matchers({ ...svc, outcome: "upstream_drop" })}`,
          total: `${req}${matchers({ ...svc, outcome: `=~${STARTED_OUTCOMES}` })}`,
        };
      case "goodput":
        return {
          good: `${PROXY_METRICS.sloGood}${matchers({ ...svc, criterion: "all" })}`,
          total: `${PROXY_METRICS.sloTotal}${matchers({ ...svc, criterion: "all" })}`,
        };
      case "latency": {
        const name = histogramName("streamslo", slo.metric as LatencyMetric);
        const le = leLabel(latencyBucket(spec, slo), "streamslo");
        return { good: `${name}_bucket${matchers({ ...svc, le })}`, total: `${name}_count${matchers(svc)}` };
      }
    }
  }
  if (spec.source === "vllm") {
    const http = "http_requests_total";
    const sel = spec.selector;
    const handler = { ...sel, handler: "=~/v1/(chat/)?completions" };
    // A selector-less total is the bare name, as before selectors existed.
    const all = (name: string) => (Object.keys(sel).length > 0 ? `${name}${matchers(sel)}` : name);
    switch (slo.sli) {
      case "availability":
        return {
          bad: `${http}${matchers({ ...handler, status: "5xx" })}`,
          total: `${http}${matchers(handler)}`,
        };
      case "drops":
        return {
          bad: `vllm:request_success_total${matchers({ ...sel, finished_reason: "abort" })}`,
          total: all("vllm:request_success_total"),
        };
      case "latency": {
        const name = histogramName("vllm", slo.metric as LatencyMetric);
        const le = leLabel(latencyBucket(spec, slo), "vllm");
        return { good: `${name}_bucket${matchers({ ...sel, le })}`, total: all(`${name}_count`) };
      }
      case "goodput":
        throw new SliError(
          `slo "${slo.name}": vLLM's metrics cannot tell goodput; use source: streamslo (the proxy) or give good and total`,
        );
    }
  }
  throw new SliError(
    `slo "${slo.name}": give good and total PromQL selectors for a ${slo.sli} SLI with source ${spec.source}`,
  );
}

const rate = (selector: string, window: string) => `sum(rate(${selector}[${window}]))`;

/** The SLI's error ratio over `window` as PromQL: bad / total, or 1 - good / total. */
export function errorRatioExpr(c: SliCounters, window: string): string {
  if (c.bad !== undefined) return `(${rate(c.bad, window)} or vector(0)) / ${rate(c.total, window)}`;
  // No good series yet (a proxy that has not served one request well since it started) is 0 good
  // events, not an absent ratio that no alert can see.
  return `1 - ((${rate(c.good as string, window)} or vector(0)) / ${rate(c.total, window)})`;
}
