import { type ParsedMetrics, parsePrometheusText, parseSampleValue, type Sample } from "./prometheus-text.js";

/**
 * Maps the /metrics of LLM inference servers onto one canonical model, so server-side latency can
 * be set beside what the client measured. Names come from each project's metrics reference:
 * vLLM docs "Production Metrics" (and vllm/v1/metrics/loggers.py), SGLang docs "Production Metrics"
 * (and srt/metrics/collector.py), TGI docs "reference/metrics", llama.cpp tools/server README.
 */

export type ServerFamily = "vllm" | "sglang" | "tgi" | "llamacpp";
/** Latency histograms, all in seconds on the wire. */
export type HistogramSeries = "ttft" | "queue" | "itl" | "e2e";
/** `kv_usage` is a fraction 0..1 in every family (vLLM's "_perc" included). */
export type GaugeSeries = "running" | "waiting" | "kv_usage";
/** llama.cpp's cumulative time and token counters (it has no latency histograms). */
export type CounterSeries = "prompt_seconds" | "prompt_tokens" | "gen_seconds" | "gen_tokens";
export type SeriesName = HistogramSeries | GaugeSeries | CounterSeries;

export interface FamilySpec {
  /** Every metric of the family starts with this; it is how a scrape is recognised. */
  prefix: string;
  /** Metric names per canonical series, newest first: the first one present in a scrape is used. */
  histograms: Partial<Record<HistogramSeries, readonly string[]>>;
  gauges: Partial<Record<GaugeSeries, readonly string[]>>;
  counters: Partial<Record<CounterSeries, readonly string[]>>;
  /** What a reader must know about a series of this family: why it is absent, or how it differs. */
  notes: Partial<Record<SeriesName, string>>;
}

export const FAMILIES: Readonly<Record<ServerFamily, FamilySpec>> = {
  vllm: {
    prefix: "vllm:",
    histograms: {
      ttft: ["vllm:time_to_first_token_seconds"],
      queue: ["vllm:request_queue_time_seconds"],
      itl: ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"],
      e2e: ["vllm:e2e_request_latency_seconds"],
    },
    gauges: {
      running: ["vllm:num_requests_running"],
      waiting: ["vllm:num_requests_waiting"],
      kv_usage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
    },
    counters: {},
    notes: {},
  },
  sglang: {
    prefix: "sglang:",
    histograms: {
      ttft: ["sglang:time_to_first_token_seconds"],
      queue: ["sglang:queue_time_seconds"],
      itl: ["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"],
      e2e: ["sglang:e2e_request_latency_seconds"],
    },
    gauges: {
      running: ["sglang:num_running_reqs"],
      waiting: ["sglang:num_queue_reqs"],
      kv_usage: ["sglang:token_usage"],
    },
    counters: {},
    notes: { queue: "older SGLang versions expose no queue-time histogram (sglang:queue_time_seconds)" },
  },
  tgi: {
    prefix: "tgi_",
    histograms: {
      queue: ["tgi_request_queue_duration"],
      itl: ["tgi_request_mean_time_per_token_duration"],
      e2e: ["tgi_request_duration"],
    },
    gauges: { running: ["tgi_batch_current_size"], waiting: ["tgi_queue_size"] },
    counters: {},
    notes: {
      ttft: "TGI exposes no time-to-first-token histogram: server-side TTFT is not available",
      itl: "TGI records one mean time per token per request, not one observation per token",
      kv_usage: "TGI exposes no KV-cache usage gauge",
    },
  },
  llamacpp: {
    prefix: "llamacpp:",
    histograms: {},
    gauges: {
      running: ["llamacpp:requests_processing"],
      waiting: ["llamacpp:requests_deferred"],
      kv_usage: ["llamacpp:kv_cache_usage_ratio"],
    },
    counters: {
      prompt_seconds: ["llamacpp:prompt_seconds_total"],
      prompt_tokens: ["llamacpp:prompt_tokens_total"],
      gen_seconds: ["llamacpp:tokens_predicted_seconds_total"],
      gen_tokens: ["llamacpp:tokens_predicted_total"],
    },
    notes: {
      ttft: "llama.cpp exposes no latency histograms: server-side TTFT is not available",
      queue: "llama.cpp exposes no latency histograms",
      itl: "llama.cpp exposes no latency histograms; see its mean ms per generated token instead",
      e2e: "llama.cpp exposes no latency histograms",
      kv_usage: "llama.cpp exposes llamacpp:kv_cache_usage_ratio only in some versions",
    },
  },
};

const FAMILY_ORDER = Object.keys(FAMILIES) as ServerFamily[];

/** The family with the most samples under its prefix, or undefined when no family's metrics appear. */
export function detectFamily(samples: readonly Sample[]): ServerFamily | undefined {
  let best: ServerFamily | undefined;
  let bestCount = 0;
  for (const family of FAMILY_ORDER) {
    const prefix = FAMILIES[family].prefix;
    let n = 0;
    for (const s of samples) if (s.name.startsWith(prefix)) n++;
    if (n > bestCount) {
      best = family;
      bestCount = n;
    }
  }
  return best;
}

/** A cumulative bucket: observations <= `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

export interface HistogramValue {
  /** The metric name this came from (tells an old vLLM's time_per_output_token from today's ITL). */
  metric: string;
  /** Cumulative, sorted by `le`, ending with le = +Infinity. */
  buckets: Bucket[];
  /** Seconds; undefined when a label set lacked `_sum`. */
  sum?: number;
  count: number;
}

export type GaugeReading = Partial<Record<GaugeSeries, number>>;

/**
 * One scrape reduced to the canonical series, summed over label sets (a server can expose several
 * engines or `model_name` values). Series missing from the scrape are absent, never NaN.
 */
export interface ServerSnapshot {
  family: ServerFamily;
  histograms: Partial<Record<HistogramSeries, HistogramValue>>;
  gauges: GaugeReading;
  counters: Partial<Record<CounterSeries, number>>;
}

export interface SnapshotOptions {
  /**
   * Keep only samples whose `model_name` label equals this. Samples without a `model_name` label
   * (TGI, llama.cpp) are kept: the label cannot disagree with them.
   */
  modelName?: string;
}

/** The distinct `model_name` label values in a scrape, to check a filter against. */
export function modelNames(samples: readonly Sample[]): string[] {
  const names = new Set<string>();
  for (const s of samples) if (s.labels.model_name !== undefined) names.add(s.labels.model_name);
  return [...names].sort();
}

/** Identity of a label set, ignoring `le` so a histogram's buckets, sum and count group together. */
function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== "le")
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

interface HistogramParts {
  buckets: Map<number, number>;
  sum?: number;
  count?: number;
}

function histogramFrom(samples: readonly Sample[], metric: string): HistogramValue | undefined {
  const groups = new Map<string, HistogramParts>();
  const group = (s: Sample): HistogramParts => {
    const key = seriesKey(s.labels);
    let g = groups.get(key);
    if (!g) {
      g = { buckets: new Map() };
      groups.set(key, g);
    }
    return g;
  };
  for (const s of samples) {
    if (s.name === `${metric}_bucket`) {
      const le = parseSampleValue(s.labels.le ?? "");
      if (le !== undefined && !Number.isNaN(le) && Number.isFinite(s.value))
        group(s).buckets.set(le, s.value);
    } else if (s.name === `${metric}_sum` && Number.isFinite(s.value)) {
      group(s).sum = s.value;
    } else if (s.name === `${metric}_count` && Number.isFinite(s.value)) {
      group(s).count = s.value;
    }
  }
  if (groups.size === 0) return undefined;

  const parts = [...groups.values()].map((g) => {
    const count = g.count ?? g.buckets.get(Number.POSITIVE_INFINITY) ?? Math.max(0, ...g.buckets.values());
    // The format requires a +Inf bucket; when it is missing, _count is the same number.
    if (!g.buckets.has(Number.POSITIVE_INFINITY)) g.buckets.set(Number.POSITIVE_INFINITY, count);
    const sorted = [...g.buckets.entries()].sort(([a], [b]) => a - b);
    return { sorted, sum: g.sum, count };
  });
  // Label sets normally share one bucket layout. If not, each contributes its count at its own
  // largest bound <= each union bound, which keeps the sum cumulative.
  const bounds = [...new Set(parts.flatMap((p) => p.sorted.map(([le]) => le)))].sort((a, b) => a - b);
  const buckets = bounds.map((le) => {
    let count = 0;
    for (const p of parts) {
      let below = 0;
      for (const [own, c] of p.sorted) {
        if (own > le) break;
        below = c;
      }
      count += below;
    }
    return { le, count };
  });
  let sum: number | undefined = 0;
  let count = 0;
  for (const p of parts) {
    sum = sum === undefined || p.sum === undefined ? undefined : sum + p.sum;
    count += p.count;
  }
  return sum === undefined ? { metric, buckets, count } : { metric, buckets, sum, count };
}

/** Sum (or mean) of a plain metric over its label sets; undefined when absent. */
function scalarFrom(samples: readonly Sample[], metric: string, mean: boolean): number | undefined {
  let total = 0;
  let n = 0;
  for (const s of samples) {
    if (s.name !== metric || !Number.isFinite(s.value)) continue;
    total += s.value;
    n++;
  }
  if (n === 0) return undefined;
  return mean ? total / n : total;
}

function firstPresent<T>(names: readonly string[] | undefined, read: (name: string) => T | undefined) {
  for (const name of names ?? []) {
    const v = read(name);
    if (v !== undefined) return v;
  }
  return undefined;
}

export function snapshotFromSamples(
  samples: readonly Sample[],
  family: ServerFamily,
  options: SnapshotOptions = {},
): ServerSnapshot {
  const spec = FAMILIES[family];
  const model = options.modelName;
  const kept =
    model === undefined
      ? samples
      : samples.filter((s) => s.labels.model_name === undefined || s.labels.model_name === model);
  const snap: ServerSnapshot = { family, histograms: {}, gauges: {}, counters: {} };
  for (const [series, names] of Object.entries(spec.histograms) as [HistogramSeries, string[]][]) {
    const h = firstPresent(names, (name) => histogramFrom(kept, name));
    if (h) snap.histograms[series] = h;
  }
  for (const [series, names] of Object.entries(spec.gauges) as [GaugeSeries, string[]][]) {
    // Running and waiting add up across engines; a usage fraction does not, so engines are averaged.
    const v = firstPresent(names, (name) => scalarFrom(kept, name, series === "kv_usage"));
    if (v !== undefined) snap.gauges[series] = v;
  }
  for (const [series, names] of Object.entries(spec.counters) as [CounterSeries, string[]][]) {
    const v = firstPresent(names, (name) => scalarFrom(kept, name, false));
    if (v !== undefined) snap.counters[series] = v;
  }
  return snap;
}

export interface ReadSnapshotOptions extends SnapshotOptions {
  /** Skip detection (e.g. the user named the server). */
  family?: ServerFamily;
}

/** Parses one /metrics body into a snapshot; undefined when the family cannot be told. */
export function readSnapshot(
  text: string,
  options: ReadSnapshotOptions = {},
): { snapshot: ServerSnapshot; parsed: ParsedMetrics } | undefined {
  const parsed = parsePrometheusText(text);
  const family = options.family ?? detectFamily(parsed.samples);
  if (family === undefined) return undefined;
  return { snapshot: snapshotFromSamples(parsed.samples, family, options), parsed };
}
