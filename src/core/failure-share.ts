/**
 * How much of a level failed, judged before any latency figure is believed: a level in which no
 * measured request succeeded measured nothing (its latency columns are empty, not good), and one
 * whose failed share passes FAILED_SHARE_WARNING is a result only with that said beside it.
 */

/** Above this share of failed measured requests a level is reported with a warning. */
export const FAILED_SHARE_WARNING = 0.05;

export interface LevelCounts {
  scenario: string;
  n: number;
  ok: number;
  errors_by_code: Record<string, number>;
}

export interface FailureFinding {
  scenario: string;
  n: number;
  failed: number;
  share: number;
  /** The most frequent failure code and how often it occurred. */
  dominant: { code: string; count: number } | undefined;
}

function dominantCode(byCode: Record<string, number>): FailureFinding["dominant"] {
  let best: FailureFinding["dominant"];
  for (const [code, count] of Object.entries(byCode)) if (!best || count > best.count) best = { code, count };
  return best;
}

export function failureFinding(l: LevelCounts): FailureFinding {
  const failed = l.n - l.ok;
  return {
    scenario: l.scenario,
    n: l.n,
    failed,
    share: l.n > 0 ? failed / l.n : 0,
    dominant: dominantCode(l.errors_by_code),
  };
}

/** Levels that sent measured requests and got not one success. */
export function levelsWithoutSuccess(levels: LevelCounts[]): FailureFinding[] {
  return levels.filter((l) => l.n > 0 && l.ok === 0).map(failureFinding);
}

/** Levels with some success whose failed share passes the warning threshold. */
export function levelsOverFailedShare(levels: LevelCounts[]): FailureFinding[] {
  return levels.map(failureFinding).filter((f) => f.failed < f.n && f.share > FAILED_SHARE_WARNING);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

function dominantText(f: FailureFinding): string {
  return f.dominant ? `, mostly ${f.dominant.code} x${f.dominant.count}` : "";
}

/** One line: "c=4: no measured request succeeded (32 of 32 failed, mostly http_429 x32)". */
export function noSuccessText(f: FailureFinding): string {
  return `${f.scenario}: no measured request succeeded (${f.failed} of ${f.n} failed${dominantText(f)}); this level is not a measurement`;
}

/** One line: "c=8: 12% of measured requests failed (4 of 32, mostly stream_reset x3)". */
export function failedShareText(f: FailureFinding): string {
  return `${f.scenario}: ${pct(f.share)} of measured requests failed (${f.failed} of ${f.n}${dominantText(f)}); its latencies describe only the requests that succeeded`;
}

/** Every warning a run's levels call for, in level order. */
export function failureWarnings(levels: LevelCounts[]): string[] {
  return levels.flatMap((l) => {
    const f = failureFinding(l);
    if (f.n === 0 || f.share <= FAILED_SHARE_WARNING) return [];
    return [f.failed === f.n ? noSuccessText(f) : failedShareText(f)];
  });
}
