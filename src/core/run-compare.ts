import { Distribution } from "./histogram.js";
import type { LevelSummary } from "./level-aggregate.js";
import { mannWhitneyU } from "./mann-whitney.js";
import type { RequestRecord } from "./record.js";
import { requestMetrics } from "./request-metrics.js";

/**
 * Compares two runs level by level: is each latency change larger than the noise between requests?
 * The test is rank-based (Mann-Whitney U) on per-request values, so skew and outliers do not drive it;
 * a change must also be at least `minChange` of the median, because with hundreds of requests a test
 * finds even 1% shifts significant, and because requests of one run are not fully independent (they
 * share the server's state), which makes p-values somewhat optimistic.
 */

export const COMPARE_METRICS = ["ttft", "tpot", "e2e"] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number];

/** Per-request values of one level, in ms: successful measured requests only. */
export type LevelSamples = Record<CompareMetric, number[]>;

/** One run as the comparison needs it. */
export interface RunInput {
  /** Per-request samples by scenario (see SampleCollector). */
  samples: ReadonlyMap<string, LevelSamples>;
  /** The level summaries of summary.json. */
  levels: readonly LevelSummary[];
}

export interface CompareOptions {
  /** Significance level of the two-sided test (default 0.05). */
  alpha?: number;
  /** Smallest relative change of the median that counts, as a fraction (default 0.05). */
  minChange?: number;
}

export type Verdict = "regression" | "improvement" | "no significant change" | "too few samples";
export const VERDICTS: readonly Verdict[] = [
  "regression",
  "improvement",
  "no significant change",
  "too few samples",
];

export interface SampleStats {
  n: number;
  /** Percentiles of the samples, as summary.json gives them (Distribution); NaN when there are none. */
  p50: number;
  p95: number;
}

export interface MetricComparison {
  metric: CompareMetric;
  a: SampleStats;
  b: SampleStats;
  /** Relative change of the median, (B - A) / A. */
  change: number;
  pValue: number;
  /** P(B > A) + 0.5 P(B = A) for a random pair of requests: above 0.5, B tends slower. */
  effect: number;
  verdict: Verdict;
}

/** Single numbers of a level: shown with their change, without a test. */
export const RATE_METRICS = ["request_throughput", "output_token_throughput", "goodput_share"] as const;
export type RateMetric = (typeof RATE_METRICS)[number];

export interface RateComparison {
  metric: RateMetric;
  a: number;
  b: number;
  change: number;
}

export interface LevelComparison {
  scenario: string;
  metrics: MetricComparison[];
  /** Empty when either run has no summary for the level. */
  rates: RateComparison[];
}

export interface RunComparison {
  alpha: number;
  minChange: number;
  levels: LevelComparison[];
  /** Levels measured in one run only. */
  unmatched: { scenario: string; onlyIn: "A" | "B" }[];
  /** Level x metric comparisons by verdict. */
  counts: Record<Verdict, number>;
  /** Multi-turn runs: p50 TTFT and E2E by turn index, for levels both runs ran as sessions. */
  byTurn: TurnComparison[];
}

export interface TurnComparison {
  scenario: string;
  turn: number;
  ttft_p50_ms: { a: number; b: number; change: number };
  e2e_p50_ms: { a: number; b: number; change: number };
}

/** p50s by turn, side by side (the distributions are summaries here: no significance test per turn). */
function turnsSideBySide(scenario: string, a: LevelSummary, b: LevelSummary): TurnComparison[] {
  const bTurns = new Map((b.sessions?.by_turn ?? []).map((t) => [t.turn, t]));
  return (a.sessions?.by_turn ?? []).flatMap((ta) => {
    const tb = bTurns.get(ta.turn);
    if (!tb) return [];
    const pair = (x: number, y: number) => ({ a: x, b: y, change: relativeChange(x, y) });
    return [
      {
        scenario,
        turn: ta.turn,
        ttft_p50_ms: pair(ta.ttft_ms.p50, tb.ttft_ms.p50),
        e2e_p50_ms: pair(ta.e2e_ms.p50, tb.e2e_ms.p50),
      },
    ];
  });
}

/**
 * Collects per-request samples one record at a time, so a reader can stream records through it without
 * holding them: measured, successful requests only, as the summary's latency distributions take them
 * (warm-up, cool-down, errors, broken streams and requests aborted by an interrupt are left out).
 */
export class SampleCollector {
  private readonly byScenario = new Map<string, LevelSamples>();

  add(r: RequestRecord): void {
    if (r.phase !== "measure" || r.outcome !== "ok" || r.error?.code === "aborted") return;
    let s = this.byScenario.get(r.scenario);
    if (!s) {
      s = { ttft: [], tpot: [], e2e: [] };
      this.byScenario.set(r.scenario, s);
    }
    const m = requestMetrics(r);
    push(s.ttft, m.ttftMs);
    push(s.tpot, m.tpotMs);
    push(s.e2e, m.e2eMs);
  }

  get samples(): ReadonlyMap<string, LevelSamples> {
    return this.byScenario;
  }
}

/** A negative or non-finite value is a clock bug, never a sample (the histograms drop them too). */
function push(to: number[], v: number | undefined): void {
  if (v !== undefined && Number.isFinite(v) && v >= 0) to.push(v);
}

export function samplesFromRecords(records: Iterable<RequestRecord>): ReadonlyMap<string, LevelSamples> {
  const c = new SampleCollector();
  for (const r of records) c.add(r);
  return c.samples;
}

/** (b - a) / a; 0 when both are 0, and infinite when only a is. */
export function relativeChange(a: number, b: number): number {
  if (a === 0) return b === 0 ? 0 : Math.sign(b) * Number.POSITIVE_INFINITY;
  return (b - a) / a;
}

/** The same percentiles as the run's own summary, so a median here is the one bench printed. */
function sampleStats(values: readonly number[]): SampleStats {
  const d = new Distribution();
  for (const v of values) d.record(v);
  return { n: values.length, p50: d.percentile(50), p95: d.percentile(95) };
}

function compareMetric(
  metric: CompareMetric,
  a: readonly number[],
  b: readonly number[],
  alpha: number,
  minChange: number,
): MetricComparison {
  const sa = sampleStats(a);
  const sb = sampleStats(b);
  const change = relativeChange(sa.p50, sb.p50);
  // B first, so the effect reads as "how often is B slower".
  const test = mannWhitneyU(b, a);
  let verdict: Verdict = "no significant change";
  if (test.tooSmall) verdict = "too few samples";
  else if (test.pValue < alpha) {
    // The median and the ranks must agree on the direction; a shift only in the tails is not called.
    if (change >= minChange && test.effect > 0.5) verdict = "regression";
    else if (change <= -minChange && test.effect < 0.5) verdict = "improvement";
  }
  return { metric, a: sa, b: sb, change, pValue: test.pValue, effect: test.effect, verdict };
}

function rateValue(s: LevelSummary, metric: RateMetric): number {
  return metric === "goodput_share" ? s.goodput.share : s[metric];
}

/** Level order: as run A measured them, then levels only run B has. */
function scenariosOf(run: RunInput): Map<string, LevelSummary | undefined> {
  const out = new Map<string, LevelSummary | undefined>();
  // A scenario measured twice (a capacity search repeats a level) pools its samples; its last summary counts.
  for (const s of run.levels) out.set(s.scenario, s);
  for (const scenario of run.samples.keys()) if (!out.has(scenario)) out.set(scenario, undefined);
  return out;
}

const EMPTY: LevelSamples = { ttft: [], tpot: [], e2e: [] };

export function compareRuns(a: RunInput, b: RunInput, options: CompareOptions = {}): RunComparison {
  const alpha = options.alpha ?? 0.05;
  const minChange = options.minChange ?? 0.05;
  const inA = scenariosOf(a);
  const inB = scenariosOf(b);
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const levels: LevelComparison[] = [];
  const byTurn: TurnComparison[] = [];
  const unmatched: RunComparison["unmatched"] = [];
  for (const [scenario, summaryA] of inA) {
    if (!inB.has(scenario)) {
      unmatched.push({ scenario, onlyIn: "A" });
      continue;
    }
    const summaryB = inB.get(scenario);
    const samplesA = a.samples.get(scenario) ?? EMPTY;
    const samplesB = b.samples.get(scenario) ?? EMPTY;
    const metrics = COMPARE_METRICS.map((m) => compareMetric(m, samplesA[m], samplesB[m], alpha, minChange));
    for (const m of metrics) counts[m.verdict]++;
    const rates =
      summaryA && summaryB
        ? RATE_METRICS.map((metric) => {
            const va = rateValue(summaryA, metric);
            const vb = rateValue(summaryB, metric);
            return { metric, a: va, b: vb, change: relativeChange(va, vb) };
          })
        : [];
    levels.push({ scenario, metrics, rates });
    if (summaryA && summaryB) byTurn.push(...turnsSideBySide(scenario, summaryA, summaryB));
  }
  for (const scenario of inB.keys()) if (!inA.has(scenario)) unmatched.push({ scenario, onlyIn: "B" });
  return { alpha, minChange, levels, unmatched, counts, byTurn };
}

/** run.json config fields that shape what each request asks, as bench's flags name them. */
const WORKLOAD_FIELDS = [
  "api",
  "stream",
  "maxTokens",
  "outputTokens",
  "inputTokens",
  "ignoreEos",
  "dataset",
  "prompt",
  "promptFile",
  "temperature",
  "extraBody",
  "model",
] as const;

/**
 * Where two runs asked different things of the endpoint ("--max-tokens 64 vs 96"): a change between
 * them may then be the workload's, not the endpoint's. Inputs are run.json's config objects.
 */
export function workloadDifferences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const text = (v: unknown) => (v === undefined ? "unset" : typeof v === "string" ? v : JSON.stringify(v));
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return WORKLOAD_FIELDS.filter((k) => text(a[k]) !== text(b[k])).map(
    (k) => `${flag(k)} ${text(a[k])} vs ${text(b[k])}`,
  );
}
