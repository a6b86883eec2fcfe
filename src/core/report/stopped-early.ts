import { cap, fmtPct, loadName } from "./numbers.js";
import type { ReportInput, ReportLevel, RunStopView } from "./report-input.js";

/** The level a run's early stop cut short, and why, as a predicate: "was cut short after ...". */
export interface CutLevel {
  level: ReportLevel;
  why: string;
  /** "after 14 of its 100 requests" */
  measured: string;
  /** The stop was the level failing (error rate, an abortOnFail objective, fatal errors), not the user. */
  failed: boolean;
}

/** Why the run stopped, as a clause: "it was interrupted (Ctrl-C or SIGTERM)"; `where`: name the level. */
export function stopCause(stop: RunStopView, where = true): string {
  const at = stop.level && where ? ` at ${loadName(stop.level)}` : "";
  switch (stop.kind) {
    case "interrupted":
      return "it was interrupted (Ctrl-C or SIGTERM)";
    case "abort-on-fail":
      return `the objective "${stop.objective ?? "?"}", which has abortOnFail, failed${at}`;
    case "max-error-rate":
      return `${stop.errorRate !== undefined ? fmtPct(stop.errorRate, 1) : "too many"} of the requests${at} failed, over --max-error-rate`;
    case "fatal":
      return `the first requests all failed with ${stop.errorCode ?? "an error"}, which retrying does not fix`;
    case "unfinished":
      return "it did not finish: the process was killed (SIGKILL, or out of memory) before it wrote summary.json, so these figures are rebuilt from requests.jsonl, without objectives or validity checks";
    default:
      return `it stopped (${stop.kind})`;
  }
}

/**
 * The level the stop came in: the one the reason names, else the last to run (summary.json lists
 * levels in run order). When it had already measured every request asked of it, the stop came
 * after it and it is complete; with --duration that cannot be told, so it counts as cut.
 */
export function cutLevel(r: ReportInput): CutLevel | undefined {
  const stop = r.stop;
  if (!stop) return undefined;
  const level = stop.level ? r.levels.find((l) => l.summary.scenario === stop.level) : r.levels.at(-1);
  if (!level) return undefined;
  const n = level.summary.n;
  if (r.requestedN !== undefined && n >= r.requestedN) return undefined;
  const measured =
    r.requestedN !== undefined
      ? `after ${n} of its ${r.requestedN} requests`
      : `while it ran (${n} requests measured)`;
  const failed = stop.kind !== "interrupted" && stop.kind !== "unfinished";
  return {
    level,
    measured,
    failed,
    why: failed
      ? `was stopped ${measured}: ${stopCause(stop, false)}`
      : `was cut short ${measured} when the run stopped, so it is not a complete measurement`,
  };
}

/** Levels asked for that never ran, by name. */
export function levelsNotRun(r: ReportInput): string[] {
  const ran = new Set(r.levels.map((l) => l.summary.scenario));
  return (r.planned ?? []).filter((s) => !ran.has(s)).map(loadName);
}

/** "a", "a and b", "a, b and c". */
export function joinAnd(items: string[]): string {
  return items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** One paragraph: why the run stopped, which level it cut and which never ran. */
export function stoppedEarly(r: ReportInput): string | undefined {
  if (!r.stop) return undefined;
  const cut = cutLevel(r);
  const missing = levelsNotRun(r);
  const parts = [`**This run was stopped early: ${stopCause(r.stop)}.**`];
  if (cut) {
    const name = cap(loadName(cut.level.summary.scenario));
    parts.push(
      `${name} was ${cut.failed ? "stopped" : "cut short"} ${cut.measured}, so it is not a complete measurement.`,
    );
  }
  if (missing.length > 0) {
    parts.push(`${cap(joinAnd(missing))} never ran.`);
  } else if (!r.planned && r.levels.length > 0) {
    parts.push("Any level the run would have tried after that never ran.");
  }
  if (!cut && missing.length === 0 && r.planned) {
    parts.push("Every level asked for had run in full before the stop, so its results are complete.");
  } else {
    parts.push("The SLO statement rests only on levels measured in full.");
  }
  return parts.join(" ");
}
