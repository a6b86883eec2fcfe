/**
 * Offline error-budget analysis of one run for one SLO: what the run spent, how each alert window's
 * burn rate moved, which multi-window burn-rate alerts would have fired and when, and when the budget
 * would run out at this pace. Formulas from the SRE Workbook, "Alerting on SLOs" (see burn-rate.ts).
 *
 * Counting: events sit in one array sorted by time with a prefix count of bad ones, so any window
 * (t - w, t] is two binary searches: exact at any time resolution, memory O(events), and the series
 * costs O(points x windows x log events). Per-second bins would be as exact at 1 s, but `timeScale`
 * stretches a run without bound, and bins would grow with it. Alerts are evaluated exactly, at every
 * instant an event enters or leaves a window, by a merge walk that is O(events) per alert.
 */
import {
  type AlertWindow,
  budgetConsumed,
  burnRateThreshold,
  errorBudget,
  timeToExhaustionMs,
  WORKBOOK_WINDOWS,
} from "./burn-rate.js";
import type { SliEvent } from "./sli-events.js";

export interface BudgetOptions {
  /** The SLO's objective as a ratio, e.g. 0.999. */
  objective: number;
  /** The SLO period (spec.periodMs): 30 days by default in SLO files. */
  periodMs: number;
  alertWindows?: readonly AlertWindow[];
  /**
   * Replays the run k times slower: every event time is multiplied by k, so a 10-minute run reads as
   * a k x 10-minute one with the same events and error ratios. A bench run lasts minutes while alert
   * windows last hours to days; k = 144 shows a 10-minute run as a day. Budget consumed grows k-fold,
   * since the same bad events are spread over k times as long. Default 1.
   */
  timeScale?: number;
  /** The run's end on the events' clock (ms since the run started); default the last event. */
  endMs?: number;
  /** About how many points the series gets (default 200); ignored when stepMs is given. */
  points?: number;
  stepMs?: number;
}

export interface BudgetTotals {
  events: number;
  bad: number;
  /** NaN without events. */
  errorRatio: number;
  /** Error ratio over the whole run / (1 - objective); 0 without events. */
  burnRate: number;
  /** Run length after scaling: from the run's start to its end. */
  durationMs: number;
  /**
   * Share of the period's budget spent, counting occurrences: bad / ((1 - objective) x the events a whole
   * period would see at the run's event rate) = run burn rate x duration / period.
   */
  consumed: number;
  /** 1 - consumed; negative when the run alone overspent the period's budget. */
  remaining: number;
  /** From the run's end until the remaining budget is gone at the run's burn rate; Infinity if none burns. */
  exhaustionMs: number;
}

export interface WindowReading {
  windowMs: number;
  /** What the window actually covers: capped at the data since the run started. */
  spanMs: number;
  events: number;
  bad: number;
  /** null when the window holds no events (Prometheus: 0/0 = NaN, and no alert fires on it). */
  errorRatio: number | null;
  burnRate: number | null;
}

export interface BudgetPoint {
  /** Scaled ms since the run started. */
  tMs: number;
  /** Budget spent by time t, on the same scale as totals.consumed. */
  consumed: number;
  remaining: number;
  windows: WindowReading[];
}

/** [startMs, endMs) in scaled ms since the run started; `open` when still firing when the run ended. */
export interface FiringInterval {
  startMs: number;
  endMs: number;
  open: boolean;
}

export interface AlertResult {
  window: AlertWindow;
  /** The burn rate both windows must exceed. */
  threshold: number;
  intervals: FiringInterval[];
}

export interface BudgetAnalysis {
  objective: number;
  periodMs: number;
  timeScale: number;
  stepMs: number;
  /** Every distinct alert window, shortest first: the series reads each. */
  windowsMs: number[];
  totals: BudgetTotals;
  series: BudgetPoint[];
  alerts: AlertResult[];
  /** Alert intervals merged per severity. */
  firing: Record<AlertWindow["severity"], FiringInterval[]>;
}

/**
 * Sorted scaled times, each entry's event and bad counts (an entry is one event, or a record's gaps
 * for an ITL SLI), and their [0..i) prefix sums.
 */
interface Timeline {
  times: Float64Array;
  count: Float64Array;
  bad: Float64Array;
  countBefore: Float64Array;
  badBefore: Float64Array;
}

function timeline(events: readonly SliEvent[], scale: number): Timeline {
  const sorted = isSorted(events) ? events : [...events].sort((a, b) => a.timeMs - b.timeMs);
  const n = sorted.length;
  const times = new Float64Array(n);
  const count = new Float64Array(n);
  const bad = new Float64Array(n);
  const countBefore = new Float64Array(n + 1);
  const badBefore = new Float64Array(n + 1);
  sorted.forEach((e, i) => {
    const k = e.count ?? 1;
    times[i] = Math.max(0, e.timeMs) * scale;
    count[i] = k;
    bad[i] = e.good ? 0 : k;
    countBefore[i + 1] = (countBefore[i] as number) + k;
    badBefore[i + 1] = (badBefore[i] as number) + (bad[i] as number);
  });
  return { times, count, bad, countBefore, badBefore };
}

function isSorted(events: readonly SliEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if ((events[i] as SliEvent).timeMs < (events[i - 1] as SliEvent).timeMs) return false;
  }
  return true;
}

/** Number of events at or before t. */
function countUpTo(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Reads window (t - w, t], the range a PromQL `[w]` selector covers. Before a whole window of data
 * exists the window holds only what there is, as rate() over a range sees only existing samples: the
 * error ratio is then the ratio since the run started, so long windows are as jumpy as short ones early on.
 */
function readWindow(tl: Timeline, t: number, windowMs: number, budget: number): WindowReading {
  const hi = countUpTo(tl.times, t);
  const lo = countUpTo(tl.times, t - windowMs);
  const events = (tl.countBefore[hi] as number) - (tl.countBefore[lo] as number);
  const bad = (tl.badBefore[hi] as number) - (tl.badBefore[lo] as number);
  const errorRatio = events > 0 ? bad / events : null;
  return {
    windowMs,
    spanMs: Math.min(windowMs, t),
    events,
    bad,
    errorRatio,
    burnRate: errorRatio === null ? null : errorRatio / budget,
  };
}

/**
 * Exact firing intervals of one long/short pair: the condition can change only when an event enters
 * a window (at its time) or leaves one (at its time + window), so walk those instants in order.
 */
function firingIntervals(
  tl: Timeline,
  w: AlertWindow,
  threshold: number,
  budget: number,
  endMs: number,
): FiringInterval[] {
  const { times, count, bad } = tl;
  const n = times.length;
  const at = (i: number) => times[i] as number;
  const next = (i: number, shift: number) => (i < n ? at(i) + shift : Number.POSITIVE_INFINITY);
  let enter = 0;
  let leaveLong = 0;
  let leaveShort = 0;
  const long = { events: 0, bad: 0 };
  const short = { events: 0, bad: 0 };
  const burning = (c: { events: number; bad: number }) =>
    c.events > 0 && c.bad / c.events / budget > threshold;
  const out: FiringInterval[] = [];
  let since: number | undefined;
  for (;;) {
    const t = Math.min(next(enter, 0), next(leaveLong, w.longMs), next(leaveShort, w.shortMs));
    if (!(t <= endMs)) break;
    for (; enter < n && at(enter) <= t; enter++) {
      long.events += count[enter] as number;
      short.events += count[enter] as number;
      long.bad += bad[enter] as number;
      short.bad += bad[enter] as number;
    }
    for (; leaveLong < n && at(leaveLong) + w.longMs <= t; leaveLong++) {
      long.events -= count[leaveLong] as number;
      long.bad -= bad[leaveLong] as number;
    }
    for (; leaveShort < n && at(leaveShort) + w.shortMs <= t; leaveShort++) {
      short.events -= count[leaveShort] as number;
      short.bad -= bad[leaveShort] as number;
    }
    const on = burning(long) && burning(short);
    if (on && since === undefined) since = t;
    else if (!on && since !== undefined) {
      out.push({ startMs: since, endMs: t, open: false });
      since = undefined;
    }
  }
  if (since !== undefined) out.push({ startMs: since, endMs, open: true });
  return out;
}

/** Union of overlapping or touching intervals. */
function merge(intervals: FiringInterval[]): FiringInterval[] {
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
  const out: FiringInterval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.startMs <= last.endMs) {
      if (iv.endMs >= last.endMs) {
        last.open = iv.endMs === last.endMs ? last.open || iv.open : iv.open;
        last.endMs = iv.endMs;
      }
    } else out.push({ ...iv });
  }
  return out;
}

/** The distinct long and short windows of a set of alerts, shortest first. */
export function alertWindowSpans(windows: readonly AlertWindow[]): number[] {
  return [...new Set(windows.flatMap((w) => [w.shortMs, w.longMs]))].sort((a, b) => a - b);
}

/** Whole seconds, about `points` of them over the run. */
export function chooseStepMs(durationMs: number, points = 200): number {
  return Math.max(1000, Math.ceil(durationMs / Math.max(1, points) / 1000) * 1000);
}

/** Analyses one SLO's events (times in ms since the run started, good or bad). Pure. */
export function analyzeBudget(events: readonly SliEvent[], opts: BudgetOptions): BudgetAnalysis {
  const scale = opts.timeScale ?? 1;
  if (!(scale > 0)) throw new RangeError(`timeScale must be positive, got ${scale}`);
  const alertWindows = opts.alertWindows ?? WORKBOOK_WINDOWS;
  const budget = errorBudget(opts.objective);
  const tl = timeline(events, scale);
  const n = tl.times.length;
  const lastEvent = n > 0 ? (tl.times[n - 1] as number) : 0;
  const durationMs = Math.max(lastEvent, (opts.endMs ?? 0) * scale);

  const bad = tl.badBefore[n] as number;
  const total = tl.countBefore[n] as number;
  const errorRatio = total > 0 ? bad / total : Number.NaN;
  const burnRate = total > 0 ? errorRatio / budget : 0;
  // bad / (budget x n x period / duration) simplifies to burn x duration / period.
  const consumed = budgetConsumed(burnRate, durationMs, opts.periodMs);
  const remaining = 1 - consumed;
  const totals: BudgetTotals = {
    events: total,
    bad,
    errorRatio,
    burnRate,
    durationMs,
    consumed,
    remaining,
    exhaustionMs: timeToExhaustionMs(remaining, burnRate, opts.periodMs),
  };

  const stepMs = opts.stepMs ?? chooseStepMs(durationMs, opts.points);
  const windowsMs = alertWindowSpans(alertWindows);
  const series: BudgetPoint[] = [];
  for (let k = 0; ; k++) {
    const t = Math.min(k * stepMs, durationMs);
    // The burn-down spends the run's total in proportion to the bad events seen so far.
    const spent = bad > 0 ? ((tl.badBefore[countUpTo(tl.times, t)] as number) / bad) * consumed : 0;
    series.push({
      tMs: t,
      consumed: spent,
      remaining: 1 - spent,
      windows: windowsMs.map((w) => readWindow(tl, t, w, budget)),
    });
    if (t >= durationMs) break;
  }

  const alerts = alertWindows.map((w): AlertResult => {
    const threshold = burnRateThreshold(w, opts.periodMs);
    return { window: w, threshold, intervals: firingIntervals(tl, w, threshold, budget, durationMs) };
  });
  const firing = {
    page: merge(alerts.filter((a) => a.window.severity === "page").flatMap((a) => a.intervals)),
    ticket: merge(alerts.filter((a) => a.window.severity === "ticket").flatMap((a) => a.intervals)),
  };
  return {
    objective: opts.objective,
    periodMs: opts.periodMs,
    timeScale: scale,
    stepMs,
    windowsMs,
    totals,
    series,
    alerts,
    firing,
  };
}
