import type { AlertResult, BudgetAnalysis, BudgetPoint, FiringInterval } from "./budget-analysis.js";
import { type AlertWindow, burnRateThreshold, timeToExhaustionMs, WORKBOOK_WINDOWS } from "./burn-rate.js";

/** A window's error ratio at each step, as Prometheus's query_range returned it (null: no data). */
export interface WindowSeries {
  windowMs: number;
  ratios: (number | null)[];
}

export interface SeriesInput {
  objective: number;
  periodMs: number;
  /** Step times, ms (epoch or relative: only differences matter). */
  timesMs: number[];
  windows: WindowSeries[];
  /** Events and bad events over the whole range queried. */
  events: number;
  bad: number;
  /** Error ratio over the SLO period up to the end (null when unknown). */
  periodRatio: number | null;
}

function intervals(firing: boolean[], times: number[]): FiringInterval[] {
  const out: FiringInterval[] = [];
  let start: number | undefined;
  firing.forEach((on, i) => {
    const t = times[i] as number;
    if (on && start === undefined) start = t;
    if (!on && start !== undefined) {
      out.push({ startMs: start, endMs: t, open: false });
      start = undefined;
    }
  });
  if (start !== undefined) out.push({ startMs: start, endMs: times[times.length - 1] as number, open: true });
  return out;
}

/**
 * The budget analysis from Prometheus range queries of the SLI's error ratio per window, in the
 * shape the offline (records-based) analysis has, so the same table and charts show it. Alerts
 * are judged at each step, as Prometheus's rule evaluation would at that resolution.
 */
export function budgetFromSeries(
  s: SeriesInput,
  alertWindows: readonly AlertWindow[] = WORKBOOK_WINDOWS,
): BudgetAnalysis {
  const budget = 1 - s.objective;
  const t0 = s.timesMs[0] ?? 0;
  const rel = s.timesMs.map((t) => t - t0);
  const span = (rel[rel.length - 1] ?? 0) + (rel.length > 1 ? (rel[1] as number) : 0);
  const ratio = s.events > 0 ? s.bad / s.events : 0;
  const burn = ratio / budget;
  // Over the SLO's period when Prometheus has it (as slo:period_error_budget_remaining reads), so
  // consumed and remaining add up to 1; else what the queried range spent.
  const inRange = (burn * span) / s.periodMs;
  const consumed = s.periodRatio !== null ? s.periodRatio / budget : inRange;
  const remaining = 1 - consumed;
  // The burn-down ends at the period's figure; the range spent `inRange` of it, the rest came before.
  const before = Math.max(0, consumed - inRange);
  const byWindow = new Map(s.windows.map((w) => [w.windowMs, w]));
  const burnAt = (windowMs: number, i: number) => {
    const r = byWindow.get(windowMs)?.ratios[i];
    return r === null || r === undefined ? null : r / budget;
  };
  const series: BudgetPoint[] = rel.map((tMs, i) => ({
    tMs,
    consumed: before + (inRange * tMs) / Math.max(1, span),
    remaining: 1 - before - (inRange * tMs) / Math.max(1, span),
    windows: s.windows.map((w) => ({
      windowMs: w.windowMs,
      spanMs: w.windowMs,
      events: 0,
      bad: 0,
      errorRatio: w.ratios[i] ?? null,
      burnRate: burnAt(w.windowMs, i),
    })),
  }));
  const alerts: AlertResult[] = alertWindows.map((w) => {
    const threshold = burnRateThreshold(w, s.periodMs);
    const firing = rel.map((_, i) => {
      const long = burnAt(w.longMs, i);
      const short = burnAt(w.shortMs, i);
      return long !== null && short !== null && long > threshold && short > threshold;
    });
    return { window: w, threshold, intervals: intervals(firing, rel) };
  });
  const merged = (sev: "page" | "ticket") =>
    intervals(
      rel.map((t) =>
        alerts.some(
          (a) =>
            a.window.severity === sev &&
            a.intervals.some((x) => t >= x.startMs && (t < x.endMs || (x.open && t <= x.endMs))),
        ),
      ),
      rel,
    );
  const lastHour = burnAt(3_600_000, rel.length - 1) ?? burn;
  return {
    objective: s.objective,
    periodMs: s.periodMs,
    timeScale: 1,
    stepMs: rel.length > 1 ? (rel[1] as number) : 0,
    windowsMs: s.windows.map((w) => w.windowMs),
    totals: {
      events: s.events,
      bad: s.bad,
      errorRatio: ratio,
      burnRate: burn,
      durationMs: span,
      consumed,
      remaining,
      exhaustionMs: timeToExhaustionMs(remaining, lastHour, s.periodMs),
    },
    series,
    alerts,
    firing: { page: merged("page"), ticket: merged("ticket") },
  };
}
