import type { BenchRunner, LevelResult, LoadLevel } from "./bench-run.js";

export interface CapacityOptions {
  /** Search request rate (open loop) or concurrency (closed loop). */
  mode: "rate" | "concurrency";
  start: number;
  max: number;
  /** Stop bisecting when the gap between passing and failing loads is below this share. */
  tolerance: number;
  /** Wall-clock budget for the whole search, ms. */
  budgetMs: number;
  /** An objective observed this close to its threshold (relative) is re-measured once. */
  noiseMargin: number;
  now(): number;
}

export interface CapacityTrial {
  load: number;
  pass: boolean;
  /** Set when the level was run twice because a result sat near a threshold. */
  repeated: boolean;
  result: LevelResult;
}

export interface CapacityResult {
  mode: "rate" | "concurrency";
  /** Highest load at which every objective held; undefined when even the first load failed. */
  capacity?: number;
  /** Lowest load seen failing (undefined when none failed up to max). */
  failedAt?: number;
  trials: CapacityTrial[];
  /** Why the search stopped where it did. */
  ending: "converged" | "budget" | "max" | "first-load-failed" | "stopped";
}

function passes(r: LevelResult): boolean {
  return r.objectives.length > 0 && r.objectives.every((o) => o.pass) && r.validity.valid;
}

function near(
  o: LevelResult["objectives"][number],
  thresholds: Map<string, number>,
  margin: number,
): boolean {
  const t = thresholds.get(o.objective);
  if (o.observed === null || t === undefined || t === 0) return false;
  return Math.abs(o.observed - t) / Math.abs(t) < margin;
}

/**
 * True when the verdict could flip on a re-run: a pass with some objective near its threshold,
 * or a fail whose every failing objective is near its threshold.
 */
function uncertain(r: LevelResult, thresholds: Map<string, number>, margin: number): boolean {
  if (!r.validity.valid) return false;
  const failing = r.objectives.filter((o) => !o.pass);
  if (failing.length === 0) return r.objectives.some((o) => near(o, thresholds, margin));
  return failing.every((o) => near(o, thresholds, margin));
}

/**
 * Finds the highest load that meets every objective: double from `start` until a load fails
 * (bracket), then bisect between the last pass and the first fail until they are within
 * `tolerance`. A result close to a threshold is measured again and passes only if both runs pass.
 */
export async function findCapacity(runner: BenchRunner, o: CapacityOptions): Promise<CapacityResult> {
  const trials: CapacityTrial[] = [];
  const t0 = o.now();
  const thresholds = new Map((runner.plan.slo?.objectives ?? []).map((x) => [x.text, x.value]));
  const level = (x: number): LoadLevel =>
    o.mode === "rate" ? { kind: "rate", rate: x } : { kind: "concurrency", concurrency: Math.round(x) };

  const trial = async (x: number): Promise<boolean | undefined> => {
    let r = await runner.runLevel(level(x));
    if (!r) return undefined;
    let pass = passes(r);
    let repeated = false;
    if (!runner.stopped && uncertain(r, thresholds, o.noiseMargin)) {
      const again = await runner.runLevel(level(x));
      if (again) {
        repeated = true;
        pass = pass && passes(again);
        if (!passes(again)) r = again;
      }
    }
    trials.push({ load: x, pass, repeated, result: r });
    return pass;
  };
  const overBudget = () => o.now() - t0 > o.budgetMs;

  let lastPass: number | undefined;
  let firstFail: number | undefined;
  // Doubling, with the last step clamped to --capacity-max, so the max itself is tried.
  for (let x = o.start; ; x = Math.min(x * 2, o.max)) {
    const pass = await trial(x);
    // A load that failed and stopped the run (an abortOnFail objective) still bounds the answer.
    if (pass === undefined || runner.stopped)
      return {
        mode: o.mode,
        capacity: lastPass,
        failedAt: pass === false ? x : firstFail,
        trials,
        ending: "stopped",
      };
    if (!pass) {
      firstFail = x;
      break;
    }
    lastPass = x;
    if (x >= o.max) break;
    if (overBudget()) return { mode: o.mode, capacity: lastPass, trials, ending: "budget" };
  }
  if (lastPass === undefined)
    return { mode: o.mode, failedAt: firstFail, trials, ending: "first-load-failed" };
  if (firstFail === undefined) return { mode: o.mode, capacity: lastPass, trials, ending: "max" };

  const step = (lo: number, hi: number) =>
    o.mode === "concurrency" ? Math.round((lo + hi) / 2) : (lo + hi) / 2;
  while ((firstFail - lastPass) / lastPass > o.tolerance) {
    const mid = step(lastPass, firstFail);
    if (mid <= lastPass || mid >= firstFail) break; // concurrency: adjacent integers
    if (overBudget())
      return { mode: o.mode, capacity: lastPass, failedAt: firstFail, trials, ending: "budget" };
    const pass = await trial(mid);
    if (pass === undefined || runner.stopped) {
      const failedAt = pass === false ? mid : firstFail;
      return { mode: o.mode, capacity: lastPass, failedAt, trials, ending: "stopped" };
    }
    if (pass) lastPass = mid;
    else firstFail = mid;
  }
  return { mode: o.mode, capacity: lastPass, failedAt: firstFail, trials, ending: "converged" };
}

/**
 * The trial the verdict's bound rests on (the failing load), when that trial was not a valid
 * measurement: the client, not the endpoint, limited it (send lag, event-loop stalls), so it says
 * nothing of the SLO.
 */
export function invalidBound(c: CapacityResult): CapacityResult["trials"][number] | undefined {
  const at = c.failedAt ?? (c.capacity === undefined ? c.trials[0]?.load : undefined);
  if (at === undefined) return undefined;
  const t = c.trials.find((x) => x.load === at && !x.pass);
  return t && !t.result.validity.valid ? t : undefined;
}
