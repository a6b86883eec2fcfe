import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeBudget } from "../core/slo/budget-analysis.js";
import { budgetCharts, budgetText, type SloBudget } from "../core/slo/budget-text.js";
import type { ProductionSpec } from "../core/slo/production-spec.js";
import { SliEventCollector } from "../core/slo/sli-events.js";
import { renderSvg } from "../output/chart-render.js";
import { RunReadError, readSummaryDocument, streamRecords } from "../output/run-reader.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { productionSpec } from "./rules-command.js";

export interface BudgetFlags {
  slo: string;
  timeScale: number;
  json: boolean;
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
export async function budgetCommand(dir: string, f: BudgetFlags): Promise<number> {
  const spec = productionSpec(f.slo);
  const collector = new SliEventCollector(spec.slos);
  let startedAt: string | undefined;
  try {
    const doc = readSummaryDocument(dir) as { started_at?: string };
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
