import { Distribution } from "../histogram.js";
import type { ReportInput } from "./report-input.js";

/** A Vega-Lite specification (kept as plain data: core builds it, output renders it). */
export type ChartSpec = Record<string, unknown>;

export interface Chart {
  id: string;
  title: string;
  spec: ChartSpec;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const WIDTH = 560;
const HEIGHT = 260;

function base(title: string, extra: ChartSpec): ChartSpec {
  return { $schema: SCHEMA, title, width: WIDTH, height: HEIGHT, ...extra };
}

const CDF_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9];

function loadAxis(r: ReportInput): { field: string; title: string } {
  return r.levels.some((l) => l.summary.rate !== undefined)
    ? { field: "load", title: "offered rate (req/s)" }
    : { field: "load", title: "concurrency" };
}

function load(l: ReportInput["levels"][number]): number {
  return l.summary.concurrency ?? l.summary.rate ?? 0;
}

/**
 * Colour by level, the legend in load order (a nominal field would sort "rate=16" before "rate=2"),
 * with a palette of 20 when 10 colours would repeat.
 */
function levelColor(r: ReportInput): ChartSpec {
  const order = [...new Set([...r.levels].sort((a, b) => load(a) - load(b)).map((l) => l.summary.scenario))];
  return {
    field: "scenario",
    type: "nominal",
    title: "level",
    sort: order,
    ...(order.length > 10 ? { scale: { scheme: "tableau20" } } : {}),
  };
}

export function latencyVsLoad(r: ReportInput): Chart {
  const values = r.levels.flatMap((l) => {
    const s = l.summary;
    return [
      { load: load(l), series: "TTFT p50", ms: s.ttft_ms.p50 },
      { load: load(l), series: "TTFT p95", ms: s.ttft_ms.p95 },
      { load: load(l), series: "E2E p50", ms: s.e2e_ms.p50 },
      { load: load(l), series: "E2E p95", ms: s.e2e_ms.p95 },
    ].filter((v) => Number.isFinite(v.ms));
  });
  const axis = loadAxis(r);
  return {
    id: "latency-vs-load",
    title: "Latency vs load",
    spec: base("p50 and p95 latency vs load", {
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: axis.field, type: "quantitative", title: axis.title },
        y: { field: "ms", type: "quantitative", title: "ms" },
        color: { field: "series", type: "nominal", title: null },
      },
    }),
  };
}

function cdfChart(
  r: ReportInput,
  key: "ttft_ms" | "itl_token_ms",
  id: string,
  title: string,
  axisTitle: string,
  share: string,
): Chart {
  const values = r.levels.flatMap((l) => {
    const d = Distribution.fromJSON(l.summary.distributions[key]);
    if (d.count === 0) return [];
    return CDF_PERCENTILES.map((p) => ({
      scenario: l.summary.scenario,
      ms: d.percentile(p),
      share: p / 100,
    }));
  });
  return {
    id,
    title,
    spec: base(title, {
      data: { values },
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "ms", type: "quantitative", title: axisTitle, scale: { type: "log" } },
        y: { field: "share", type: "quantitative", title: share, axis: { format: "%" } },
        color: levelColor(r),
      },
    }),
  };
}

export function ttftCdf(r: ReportInput): Chart {
  return cdfChart(
    r,
    "ttft_ms",
    "ttft-cdf",
    "TTFT distribution (CDF)",
    "TTFT (ms, log scale)",
    "share of requests",
  );
}

export function itlDistribution(r: ReportInput): Chart {
  return cdfChart(
    r,
    "itl_token_ms",
    "itl-cdf",
    "Inter-token latency distribution (CDF)",
    "ITL per token (ms, log scale)",
    "share of token gaps",
  );
}

export function timeline(r: ReportInput): Chart {
  const values = r.timeline.map((t) => ({ ...t, first_s: t.first_s ?? null }));
  return {
    id: "timeline",
    title: "Per-request timeline",
    spec: base("Per-request timeline: start to end, dot at the first token", {
      data: { values },
      layer: [
        {
          mark: { type: "rule", strokeWidth: 1 },
          encoding: {
            x: { field: "start_s", type: "quantitative", title: "seconds since the run began" },
            x2: { field: "end_s" },
            y: { field: "index", type: "quantitative", title: "request" },
            color: levelColor(r),
          },
        },
        {
          mark: { type: "point", size: 6, filled: true },
          encoding: {
            x: { field: "first_s", type: "quantitative" },
            y: { field: "index", type: "quantitative" },
            color: levelColor(r),
          },
        },
      ],
    }),
  };
}

export function inFlight(r: ReportInput): Chart {
  return {
    id: "in-flight",
    title: "Requests in flight",
    spec: base("Requests in flight over time", {
      data: { values: r.series },
      mark: { type: "area", line: true, interpolate: "step-after", opacity: 0.5 },
      encoding: {
        x: { field: "t_s", type: "quantitative", title: "seconds since the run began" },
        y: { field: "in_flight", type: "quantitative", title: "in flight" },
      },
    }),
  };
}

export function tokenRate(r: ReportInput): Chart {
  return {
    id: "token-rate",
    title: "Token rate",
    spec: base("Tokens received per second", {
      data: { values: r.series },
      mark: { type: "line" },
      encoding: {
        x: { field: "t_s", type: "quantitative", title: "seconds since the run began" },
        y: { field: "tokens_per_s", type: "quantitative", title: "tokens/s" },
      },
    }),
  };
}

export function goodputPerLevel(r: ReportInput): Chart {
  const values = r.levels.map((l) => ({ scenario: l.summary.scenario, goodput: l.summary.goodput.share }));
  return {
    id: "goodput",
    title: "Goodput per level",
    spec: base("Goodput per level (share of requests meeting every criterion)", {
      data: { values },
      mark: "bar",
      encoding: {
        x: { field: "scenario", type: "nominal", title: "level", sort: null },
        y: {
          field: "goodput",
          type: "quantitative",
          title: "goodput",
          axis: { format: "%" },
          scale: { domain: [0, 1] },
        },
      },
    }),
  };
}

/** The charts with something to draw: a run without streaming has no TTFT or ITL distribution. */
export function allCharts(r: ReportInput): Chart[] {
  return [
    latencyVsLoad(r),
    ttftCdf(r),
    itlDistribution(r),
    timeline(r),
    inFlight(r),
    tokenRate(r),
    goodputPerLevel(r),
  ].filter((c) => ((c.spec.data as { values?: unknown[] } | undefined)?.values?.length ?? 1) > 0);
}

/** The charts report.md embeds as SVG files. */
export const MARKDOWN_CHARTS = ["latency-vs-load", "ttft-cdf", "goodput", "in-flight"];
