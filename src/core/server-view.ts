import type { ServerView } from "./report/report-input.js";
import { FAMILIES, type GaugeSeries } from "./server-families.js";
import type { ServerMetricsDelta } from "./server-metrics-delta.js";

/** Boils a level's server-metric delta down to what the summary and the report show. */
export function serverView(d: ServerMetricsDelta): ServerView {
  const spec = FAMILIES[d.family];
  const gaugeName = (g: GaugeSeries) => (d[g] ? spec.gauges[g]?.[0] : undefined);
  const names: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    ttft: d.ttft?.metric,
    queue: d.queue?.metric,
    itl: d.itl?.metric,
    e2e: d.e2e?.metric,
    running: gaugeName("running"),
    waiting: gaugeName("waiting"),
    kv_usage: gaugeName("kv_usage"),
  })) {
    if (value) names[key] = value;
  }
  return {
    family: d.family,
    ttft_mean_ms: d.ttft?.mean_ms,
    ttft_p95_ms: d.ttft?.p95_ms,
    ttft_count: d.ttft?.count,
    queue_mean_ms: d.queue?.mean_ms,
    itl_mean_ms: d.itl?.mean_ms ?? d.gen_ms_per_token,
    e2e_mean_ms: d.e2e?.mean_ms,
    running_peak: d.running?.peak,
    waiting_peak: d.waiting?.peak,
    kv_usage_peak: d.kv_usage?.peak,
    gauge_readings: d.running?.readings ?? d.waiting?.readings ?? d.kv_usage?.readings,
    decode_ms_per_token: d.gen_ms_per_token,
    prefill_ms_per_token: d.prompt_ms_per_token,
    names,
  };
}

/** Fewer gauge readings than this over a level, and a peak read from them is not shown. */
export const MIN_GAUGE_READINGS = 3;

/** A gauge peak when enough readings back it, else undefined. */
export function sampledPeak(v: ServerView | undefined, peak: number | undefined): number | undefined {
  return peak !== undefined && (v?.gauge_readings ?? 0) >= MIN_GAUGE_READINGS ? peak : undefined;
}

/**
 * The client's TTFT mean to set against the server's: over the same requests when the run recorded
 * it, else (runs written before it was) the measured requests' mean.
 */
export function clientTtftBesideServer(l: {
  summary: { ttft_ms: { mean: number } };
  server?: ServerView;
}): number {
  return l.server?.client_ttft_mean_ms ?? l.summary.ttft_ms.mean;
}

/** A caveat for the client-minus-server TTFT gap when first chunks carried several tokens, else "". */
export function firstChunkCaveat(v: ServerView | undefined): string {
  const k = v?.client_first_chunk_tokens;
  return k !== undefined && k > 1.05
    ? ` (first chunks carried ${Number(k.toPrecision(3))} tokens on average: the gap includes decoding all but the first, not only network)`
    : "";
}
