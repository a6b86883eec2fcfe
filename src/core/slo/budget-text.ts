/** The budget command's output, pure: a fixed-width table, alert lines, and Vega-Lite charts. */
import type { Chart, ChartSpec } from "../report/chart-specs.js";
import type { BudgetAnalysis, FiringInterval } from "./budget-analysis.js";
import { DAY_MS, HOUR_MS, MINUTE_MS, promDuration } from "./burn-rate.js";
import type { ProductionSlo } from "./production-spec.js";

/** One SLO's outcome: an analysis, or why there is none (ratio SLIs, no counted requests). */
export interface SloBudget {
  slo: ProductionSlo;
  analysis?: BudgetAnalysis;
  note?: string;
}

export interface BudgetTextOptions {
  /** The period as written in the SLO file, e.g. "30d". */
  period?: string;
  /** run.json's started_at, shown so relative times can be placed on the wall clock. */
  startedAt?: string;
  /** What startedAt is the start of: "the run's start" (default) or "the range's start" (Prometheus). */
  origin?: string;
}

const UNITS: [string, number][] = [
  ["d", DAY_MS],
  ["h", HOUR_MS],
  ["m", MINUTE_MS],
  ["s", 1000],
];

/** Largest units first, to the second, trailing zero units dropped: "4d 6h", "45s"; sep "" gives "3m20s". */
export function humanDuration(ms: number, sep = " ", maxUnits = 2): string {
  if (ms === Number.POSITIVE_INFINITY) return "never";
  let rest = Math.round(Math.max(0, ms) / 1000) * 1000;
  const parts: [number, string][] = [];
  for (const [name, size] of UNITS) {
    const v = Math.floor(rest / size);
    rest -= v * size;
    if (v > 0 || parts.length > 0) parts.push([v, name]);
    if (parts.length === maxUnits) break;
  }
  while (parts.length > 0 && parts[parts.length - 1]?.[0] === 0) parts.pop();
  return parts.length === 0 ? "0s" : parts.map(([v, name]) => `${v}${name}`).join(sep);
}

/** A time relative to the run's start, to the second: "+3m20s", "+1h8m40s". */
export function relTime(ms: number): string {
  return `+${humanDuration(ms, "", 3)}`;
}

/** Three significant digits, dropping trailing zeros: 99.9%, 0.125%, 4.63%. */
function pct(share: number): string {
  if (!Number.isFinite(share)) return "-";
  return `${Number((share * 100).toPrecision(3))}%`;
}

function burn(b: number): string {
  return Number.isFinite(b) ? `${Number(b.toPrecision(3))}x` : "-";
}

function exhaustion(a: BudgetAnalysis): string {
  const t = a.totals;
  if (t.remaining <= 0) return "already spent";
  return t.exhaustionMs === Number.POSITIVE_INFINITY ? "never at this rate" : humanDuration(t.exhaustionMs);
}

const HEADER = [
  "slo",
  "objective",
  "events",
  "bad",
  "error ratio",
  "burn",
  "consumed",
  "remaining",
  "exhausted in",
];

function summaryRow(r: SloBudget): string[] {
  const a = r.analysis;
  const head = [r.slo.name, pct(r.slo.objective)];
  if (!a) return [...head, "-", "-", "-", "-", "-", "-", r.note ?? "not analysed"];
  const t = a.totals;
  return [
    ...head,
    String(t.events),
    String(t.bad),
    pct(t.errorRatio),
    burn(t.burnRate),
    pct(t.consumed),
    pct(t.remaining),
    exhaustion(a),
  ];
}

function table(header: string[], rows: string[][], leftColumns: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const last = header.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === last ? c : i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
      )
      .join("  ");
  return [line(header), ...rows.map(line)];
}

/** Every interval when few; else the first two, the last, and the count and total time firing. */
function intervalsText(intervals: FiringInterval[]): string {
  const one = (iv: FiringInterval) => `${relTime(iv.startMs)}..${iv.open ? "end" : relTime(iv.endMs)}`;
  if (intervals.length <= 4) return intervals.map(one).join(", ");
  const total = intervals.reduce((sum, iv) => sum + iv.endMs - iv.startMs, 0);
  const last = intervals[intervals.length - 1] as FiringInterval;
  const shown = [...intervals.slice(0, 2).map(one), "...", one(last)].join(", ");
  return `${shown} (${intervals.length} times, ${humanDuration(total)} in all)`;
}

function alertRows(r: SloBudget): string[][] {
  const a = r.analysis;
  if (!a) return [];
  const fired = a.alerts.filter((x) => x.intervals.length > 0);
  if (fired.length === 0) return [[r.slo.name, "-", "-", "-", "no alert would have fired"]];
  return fired.map((x) => [
    r.slo.name,
    x.window.severity,
    `${promDuration(x.window.longMs)}/${promDuration(x.window.shortMs)}`,
    `> ${Number(x.threshold.toPrecision(4))}x`,
    intervalsText(x.intervals),
  ]);
}

/** The budget table, then every multi-window alert that would have fired, with times from the run's start. */
export function budgetText(results: readonly SloBudget[], opts: BudgetTextOptions = {}): string {
  const first = results.find((r) => r.analysis)?.analysis;
  const out: string[] = [];
  const period = opts.period ?? (first ? promDuration(first.periodMs) : "the period");
  let head = `error budget over ${period}`;
  if (first && first.timeScale !== 1) head += `, run replayed ${first.timeScale}x slower`;
  if (opts.startedAt) head += `; times are from ${opts.origin ?? "the run's start"}, ${opts.startedAt}`;
  out.push(head, "", ...table(HEADER, results.map(summaryRow), 1));
  const alerts = results.flatMap(alertRows);
  if (alerts.length > 0) {
    out.push("", "multi-window burn-rate alerts (long/short window, both above the threshold):");
    out.push(...table(["slo", "severity", "windows", "burn", "firing"], alerts, 3));
  }
  return out.join("\n");
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function base(title: string, extra: ChartSpec): ChartSpec {
  return { $schema: SCHEMA, title, width: 560, height: 260, ...extra };
}

/** The axis unit that keeps the run's length readable. */
function timeUnit(results: readonly SloBudget[]): { ms: number; name: string; scale: number } {
  const longest = Math.max(0, ...results.map((r) => r.analysis?.totals.durationMs ?? 0));
  const scale = results.find((r) => r.analysis)?.analysis?.timeScale ?? 1;
  if (longest >= 3 * DAY_MS) return { ms: DAY_MS, name: "days", scale };
  if (longest >= 3 * HOUR_MS) return { ms: HOUR_MS, name: "hours", scale };
  return { ms: MINUTE_MS, name: "minutes", scale };
}

function timeTitle(u: { name: string; scale: number }): string {
  return `${u.name} since the run began${u.scale !== 1 ? ` (replayed ${u.scale}x slower)` : ""}`;
}

/** Budget remaining over the run's time, one line per SLO. */
export function burnDownChart(results: readonly SloBudget[]): Chart {
  const u = timeUnit(results);
  const values = results.flatMap((r) =>
    (r.analysis?.series ?? []).map((p) => ({ slo: r.slo.name, t: p.tMs / u.ms, remaining: p.remaining })),
  );
  return {
    id: "budget-burn-down",
    title: "Error budget burn-down",
    spec: base("Error budget remaining over the run", {
      data: { values },
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "t", type: "quantitative", title: timeTitle(u) },
        y: { field: "remaining", type: "quantitative", title: "budget remaining", axis: { format: "%" } },
        color: { field: "slo", type: "nominal", title: "SLO" },
      },
    }),
  };
}

/** Burn rate per window over time for one SLO, with each alert's threshold as a rule. */
export function burnRateChart(r: SloBudget): Chart | undefined {
  const a = r.analysis;
  if (!a) return undefined;
  const u = timeUnit([r]);
  const values = a.series.flatMap((p) =>
    p.windows
      .filter((w) => w.burnRate !== null)
      .map((w) => ({ t: p.tMs / u.ms, window: promDuration(w.windowMs), burn: w.burnRate })),
  );
  const thresholds = a.alerts.map((x) => ({
    burn: x.threshold,
    alert: `${x.window.severity} ${promDuration(x.window.longMs)}/${promDuration(x.window.shortMs)}`,
    severity: x.window.severity,
  }));
  const windowOrder = a.windowsMs.map(promDuration);
  return {
    id: `burn-rate-${r.slo.name}`,
    title: `Burn rate: ${r.slo.name}`,
    spec: base(`Burn rate per window: ${r.slo.name} (objective ${pct(r.slo.objective)})`, {
      layer: [
        {
          data: { values },
          mark: { type: "line" },
          encoding: {
            x: { field: "t", type: "quantitative", title: timeTitle(u) },
            // symlog: thresholds span 1 to 14.4 while a clean run sits at 0.
            y: { field: "burn", type: "quantitative", title: "burn rate", scale: { type: "symlog" } },
            color: { field: "window", type: "nominal", title: "window", sort: windowOrder },
          },
        },
        {
          data: { values: thresholds },
          mark: { type: "rule", strokeDash: [4, 4] },
          encoding: {
            y: { field: "burn", type: "quantitative" },
            stroke: {
              field: "severity",
              type: "nominal",
              title: "alert threshold",
              scale: { domain: ["page", "ticket"], range: ["#d62728", "#ff7f0e"] },
            },
          },
        },
        {
          data: { values: thresholds },
          mark: { type: "text", align: "right", dy: -4, fontSize: 10 },
          encoding: {
            x: { value: 556 },
            y: { field: "burn", type: "quantitative" },
            text: { field: "alert" },
          },
        },
      ],
      resolve: { scale: { color: "independent", stroke: "independent" } },
    }),
  };
}

/** The burn-down for every SLO, then one burn-rate chart per analysed SLO. */
export function budgetCharts(results: readonly SloBudget[]): Chart[] {
  const charts = [burnDownChart(results)];
  for (const r of results) {
    const c = burnRateChart(r);
    if (c) charts.push(c);
  }
  return charts;
}
