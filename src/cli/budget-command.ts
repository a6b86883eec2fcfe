import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  PrometheusError,
  PrometheusQueryError,
  queryRangeAligned,
  queryScalar,
} from "../client/prometheus-api.js";
import { alertWindowSpans, analyzeBudget } from "../core/slo/budget-analysis.js";
import { budgetFromSeries } from "../core/slo/budget-from-series.js";
import { budgetCharts, budgetText, type SloBudget } from "../core/slo/budget-text.js";
import { promDuration, WORKBOOK_WINDOWS } from "../core/slo/burn-rate.js";
import type { ProductionSpec } from "../core/slo/production-spec.js";
import { SliEventCollector } from "../core/slo/sli-events.js";
import { errorRatioExpr, SliError, sliCounters } from "../core/slo/sli-queries.js";
import { renderSvg } from "../output/chart-render.js";
import { loadSummaryDocument, RunReadError, streamRecords } from "../output/run-reader.js";
import { EndpointError, EXIT, UsageError } from "./exit-codes.js";
import { productionSpec } from "./rules-command.js";

export interface BudgetFlags {
  slo: string;
  timeScale: number;
  json: boolean;
  prometheus?: string;
  range: number;
  step: number;
}

/** Each SLO's budget analysis from the events collected off a run's records. */
export function budgetResults(
  spec: ProductionSpec,
  collector: SliEventCollector,
  timeScale: number,
): SloBudget[] {
  return spec.slos.map((slo) => {
    const events = collector.events(slo.name);
    if (!events)
      return { slo, note: "a ratio SLI of your own PromQL cannot be computed from a run's records" };
    return {
      slo,
      analysis: analyzeBudget(events, { objective: slo.objective, periodMs: spec.periodMs, timeScale }),
    };
  });
}

/**
 * Offline error-budget analysis of a run: budget consumed, burn rate per alert window over time,
 * the alerts that would have fired and when, and when the budget would run out at this rate.
 */
export async function budgetCommand(dir: string | undefined, f: BudgetFlags): Promise<number> {
  const spec = productionSpec(f.slo, "--slo");
  if (f.prometheus !== undefined && dir !== undefined)
    throw new UsageError(`give a run folder or --prometheus, not both (the run ${dir} would be ignored)`);
  if (f.prometheus) return budgetFromPrometheus(spec, f);
  if (dir === undefined)
    throw new UsageError("give a run folder, or --prometheus URL to read the SLIs from Prometheus");
  const collector = new SliEventCollector(spec.slos, spec.request);
  let startedAt: string | undefined;
  try {
    const doc = (await loadSummaryDocument(dir)) as { started_at?: string };
    startedAt = doc.started_at;
    await streamRecords(join(dir, "requests.jsonl"), (r) => collector.add(r));
  } catch (err) {
    if (err instanceof RunReadError) throw new UsageError(err.message);
    throw err;
  }
  const results: SloBudget[] = spec.slos.map((slo) => {
    const events = collector.events(slo.name);
    if (!events)
      return { slo, note: "a ratio SLI of your own PromQL cannot be computed from a run's records" };
    return {
      slo,
      analysis: analyzeBudget(events, {
        objective: slo.objective,
        periodMs: spec.periodMs,
        timeScale: f.timeScale,
      }),
    };
  });
  const charts = budgetCharts(results);
  mkdirSync(join(dir, "charts"), { recursive: true });
  for (const c of charts) writeFileSync(join(dir, "charts", `${c.id}.svg`), await renderSvg(c));
  if (f.json) {
    process.stdout.write(
      `${JSON.stringify(
        results.map((r) => ({ slo: r.slo.name, note: r.note, ...r.analysis, series: undefined })),
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(`${budgetText(results, { period: spec.period, startedAt })}\n`);
    process.stdout.write(
      `charts in ${join(dir, "charts")}: ${charts.map((c) => `${c.id}.svg`).join(", ")}\n`,
    );
  }
  return EXIT.ok;
}

const MAX_POINTS = 11_000;

/** Increase of a counter selector over `range`, summed (0 when the selector matches nothing). */
const increase = (selector: string, range: string) => `sum(increase(${selector}[${range}])) or vector(0)`;

/**
 * The same analysis from Prometheus: each SLI's error ratio per alert window, range-queried at
 * `--step` over the last `--range`, and the events over the range from counter increases.
 */
async function budgetFromPrometheus(spec: ProductionSpec, f: BudgetFlags): Promise<number> {
  const base = f.prometheus as string;
  const end = Math.floor(Date.now() / 1000);
  const start = end - Math.floor(f.range);
  const step = Math.max(1, Math.floor(f.step));
  const range = promDuration(Math.floor(f.range) * 1000);
  // Prometheus refuses a range query of more than 11,000 points: say so before asking.
  const points = Math.floor((end - start) / step) + 1;
  if (points > MAX_POINTS)
    throw new UsageError(
      `--range over --step is ${points} points, more than the ${MAX_POINTS} Prometheus returns per query; use --step ${Math.ceil((end - start) / (MAX_POINTS - 1))}s or more`,
    );
  const timesMs = Array.from({ length: points }, (_, i) => (start + i * step) * 1000);
  const results: SloBudget[] = [];
  try {
    for (const slo of spec.slos) {
      let counters: ReturnType<typeof sliCounters>;
      try {
        counters = sliCounters(spec, slo);
      } catch (err) {
        if (err instanceof SliError) throw new UsageError(`${f.slo}: ${err.message}`);
        throw err;
      }
      // increase() extrapolates to the range's edges; whole events read better.
      const events = Math.round((await queryScalar(base, increase(counters.total, range), end)) ?? 0);
      // A quiet range is not a missing SLI: only a period without events is (asked first: nothing
      // else is worth querying for it).
      if (
        events === 0 &&
        ((await queryScalar(base, increase(counters.total, spec.period), end)) ?? 0) === 0
      ) {
        results.push({
          slo,
          note: `no events over the ${spec.period} period: ${counters.total} is missing from Prometheus or saw no traffic`,
        });
        continue;
      }
      const windows = await Promise.all(
        alertWindowSpans(WORKBOOK_WINDOWS).map(async (windowMs) => ({
          windowMs,
          ratios: await queryRangeAligned(
            base,
            errorRatioExpr(counters, promDuration(windowMs)),
            start,
            end,
            step,
          ),
        })),
      );
      const bad = Math.round(
        counters.bad
          ? ((await queryScalar(base, increase(counters.bad, range), end)) ?? 0)
          : events - ((await queryScalar(base, increase(counters.good as string, range), end)) ?? 0),
      );
      const periodRatio = await queryScalar(base, errorRatioExpr(counters, spec.period), end);
      results.push({
        slo,
        analysis: budgetFromSeries({
          objective: slo.objective,
          periodMs: spec.periodMs,
          timesMs,
          windows,
          events,
          bad,
          periodRatio,
        }),
      });
    }
  } catch (err) {
    if (err instanceof PrometheusQueryError)
      throw new UsageError(`${err.message}; check --range, --step and the SLO file's own PromQL`);
    if (err instanceof PrometheusError) throw new EndpointError(err.message);
    throw err;
  }
  const startedAt = new Date(start * 1000).toISOString();
  if (f.json) {
    process.stdout.write(
      `${JSON.stringify(
        results.map((r) => ({ slo: r.slo.name, note: r.note, ...r.analysis, series: undefined })),
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(
      `${budgetText(results, { period: spec.period, startedAt, origin: "the range's start" })}\n`,
    );
  }
  return EXIT.ok;
}
