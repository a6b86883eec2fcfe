import {
  burnRateThreshold,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  promDuration,
  WORKBOOK_WINDOWS,
} from "./burn-rate.js";
import { RULES, SERVICE_LABEL, SLO_LABEL } from "./conventions.js";
import type { ProductionSlo, ProductionSpec } from "./production-spec.js";
import { errorRatioExpr, labelSet, presenceSeries, sliCounters } from "./sli-queries.js";

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** Every window the alerts need, and the period for the budget. */
export function ruleWindows(spec: ProductionSpec): string[] {
  const ms = [
    5 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    6 * HOUR_MS,
    DAY_MS,
    3 * DAY_MS,
    spec.periodMs,
  ];
  return [...new Set(ms)].sort((a, b) => a - b).map(promDuration);
}

export function sloLabels(spec: ProductionSpec, slo: ProductionSlo): Record<string, string> {
  return { ...spec.labels, [SERVICE_LABEL]: spec.service, [SLO_LABEL]: slo.name };
}

function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

export interface BurnAlert {
  severity: "page" | "ticket";
  /** [long window, short window, burn-rate threshold] pairs, joined with `or`. */
  pairs: { long: string; short: string; factor: number }[];
}

/** The workbook's alert pairs with factors computed from this SLO's period (14.4 and 6 at 30 days). */
export function burnAlerts(spec: ProductionSpec): BurnAlert[] {
  return (["page", "ticket"] as const).map((severity) => ({
    severity,
    pairs: WORKBOOK_WINDOWS.filter((w) => w.severity === severity).map((w) => ({
      long: promDuration(w.longMs),
      short: promDuration(w.shortMs),
      factor: burnRateThreshold(w, spec.periodMs),
    })),
  }));
}

function describe(slo: ProductionSlo): string {
  if (slo.description) return slo.description;
  switch (slo.sli) {
    case "availability":
      return "requests answered without error";
    case "drops":
      return "streams that finished instead of breaking";
    case "latency":
      return `requests with ${slo.metric?.toUpperCase()} <= ${fmt((slo.thresholdS ?? 0) * 1000)} ms`;
    case "goodput":
      return "requests meeting every per-request criterion";
    case "ratio":
      return "good events over all events";
  }
}

/** Recording rules (error ratios per window, meta rules) and alerts for one SLO. */
export function sloRuleGroups(spec: ProductionSpec, slo: ProductionSlo): RuleGroup[] {
  const labels = sloLabels(spec, slo);
  const sel = labelSet(labels);
  const counters = sliCounters(spec, slo);
  const budget = 1 - slo.objective;
  const recordings: Rule[] = ruleWindows(spec).map((w) => ({
    record: RULES.errorRatio(w),
    expr: errorRatioExpr(counters, w),
    labels,
  }));
  const meta: Rule[] = [
    { record: RULES.objective, expr: `vector(${fmt(slo.objective)})`, labels },
    { record: RULES.errorBudget, expr: `vector(${fmt(budget)})`, labels },
    { record: RULES.currentBurnRate, expr: `${RULES.errorRatio("5m")}${sel} / ${fmt(budget)}`, labels },
    { record: RULES.periodBurnRate, expr: `${RULES.errorRatio(spec.period)}${sel} / ${fmt(budget)}`, labels },
    { record: RULES.budgetRemaining, expr: `1 - ${RULES.periodBurnRate}${sel}`, labels },
  ];
  const what = describe(slo);
  const alerts: Rule[] = burnAlerts(spec).map((a) => ({
    alert: "SLOErrorBudgetBurn",
    expr: a.pairs
      .map(
        (p) =>
          `(${RULES.errorRatio(p.long)}${sel} > (${fmt(p.factor)} * ${fmt(budget)}) and ${RULES.errorRatio(p.short)}${sel} > (${fmt(p.factor)} * ${fmt(budget)}))`,
      )
      .join("\nor\n"),
    labels: { ...labels, severity: a.severity },
    annotations: {
      summary: `${spec.service} ${slo.name}: error budget burning ${a.severity === "page" ? "fast" : "steadily"}`,
      description: `SLO ${slo.name} (${fmt(slo.objective * 100)}% ${what} over ${spec.period}) is burning its error budget at more than ${a.pairs
        .map((p) => `${fmt(p.factor)}x over ${p.long} (and ${p.short})`)
        .join(" or ")}.`,
      ...(spec.runbook ? { runbook_url: spec.runbook } : {}),
    },
  }));
  const presence = presenceSeries(spec, slo);
  alerts.push({
    alert: "SLOMetricsAbsent",
    expr: `absent(${presence})`,
    for: "10m",
    labels: { ...labels, severity: "ticket" },
    annotations: {
      summary: `${spec.service} ${slo.name}: no SLI data`,
      description: `The series behind SLO ${slo.name} (${presence}) are missing: the SLO cannot be judged. Check the scrape target and the exporter.`,
      ...(spec.runbook ? { runbook_url: spec.runbook } : {}),
    },
  });
  const base = `streamslo-${spec.service}-${slo.name}`;
  return [
    { name: `${base}-sli-recordings`, rules: recordings },
    { name: `${base}-meta-recordings`, rules: meta },
    { name: `${base}-alerts`, rules: alerts },
  ];
}

/** The whole rule file: `{ groups: [...] }`, ready for YAML. */
export function prometheusRules(spec: ProductionSpec): { groups: RuleGroup[] } {
  return { groups: spec.slos.flatMap((slo) => sloRuleGroups(spec, slo)) };
}
