import type { LevelAggregate } from "./level-aggregate.js";
import { compare, DISTRIBUTION_METRICS, type DistributionMetric, type Objective } from "./objective.js";

export interface ObjectiveResult {
  objective: string;
  /** The measured value, in the objective's unit (ms for latencies); null when nothing was measured. */
  observed: number | null;
  pass: boolean;
}

/** The value an objective looks at, measured on one level so far. */
export function observe(o: Objective, agg: LevelAggregate): number {
  if (o.metric in DISTRIBUTION_METRICS) {
    const d = agg.dist[DISTRIBUTION_METRICS[o.metric as DistributionMetric]];
    if (d.count === 0) return Number.NaN;
    const a = o.aggregation;
    if (!a || a.kind === "avg") return d.sum / d.count;
    if (a.kind === "min") return d.min;
    if (a.kind === "max") return d.max;
    if (a.kind === "percentile") return d.percentile(a.p);
  }
  const n = agg.sent;
  const share = (x: number) => (n > 0 ? x / n : Number.NaN);
  const duration = agg.durationS;
  switch (o.metric) {
    case "goodput":
      return share(agg.good);
    case "goodput_rate":
      return duration > 0 ? agg.good / duration : Number.NaN;
    case "success_rate":
      return share(agg.ok);
    case "error_rate":
      return share(agg.error);
    case "drop_rate":
      return share(agg.incomplete);
    case "quality_pass_rate":
      return agg.qualityChecked > 0 ? agg.qualityPassed / agg.qualityChecked : Number.NaN;
    case "e2e_quality":
      return agg.qualityChecked > 0 ? (agg.qualityPassed / agg.qualityChecked) * share(agg.ok) : Number.NaN;
    case "request_throughput":
      return duration > 0 ? agg.ok / duration : Number.NaN;
    case "output_token_throughput":
      return duration > 0 ? agg.totalOutputTokens / duration : Number.NaN;
  }
  return Number.NaN;
}

/** Judges objectives on one level. Nothing measured is a failure: an SLO cannot pass on no data. */
export function evaluateObjectives(objectives: Objective[], agg: LevelAggregate): ObjectiveResult[] {
  return objectives.map((o) => {
    const v = observe(o, agg);
    const measured = Number.isFinite(v);
    return { objective: o.text, observed: measured ? v : null, pass: measured && compare(v, o.op, o.value) };
  });
}

/** The first abort-on-fail objective that has failed once enough requests were measured. */
export function abortingObjective(objectives: Objective[], agg: LevelAggregate): ObjectiveResult | undefined {
  for (const o of objectives) {
    if (!o.abortOnFail || agg.sent < o.abortAfter) continue;
    const v = observe(o, agg);
    if (Number.isFinite(v) && !compare(v, o.op, o.value))
      return { objective: o.text, observed: v, pass: false };
  }
  return undefined;
}
