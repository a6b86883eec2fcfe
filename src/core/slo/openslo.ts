import { parseAllDocuments } from "yaml";

/**
 * Imports the subset of OpenSLO v1 (https://github.com/OpenSLO/OpenSLO, spec v1) that maps onto
 * streamslo's production SLOs: kind SLO with a ratioMetric SLI (inline, or an indicatorRef to a
 * kind SLI document in the same file) whose good and total are Prometheus counter selectors, a
 * rolling time window in days, and Occurrences budgeting. Each objective becomes one SLO.
 */

export class OpenSloError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function isOpenSlo(text: string): boolean {
  return /^\s*apiVersion:\s*["']?openslo\/v1/m.test(text);
}

function query(side: unknown, where: string): string {
  const source = isObj(side) && isObj(side.metricSource) ? side.metricSource : undefined;
  const spec = source && isObj(source.spec) ? source.spec : undefined;
  const type = typeof source?.type === "string" ? source.type.toLowerCase() : "";
  if (type !== "prometheus" || typeof spec?.query !== "string") {
    throw new OpenSloError(
      `${where}: only metricSource type Prometheus with spec.query maps to streamslo (got ${type || "none"})`,
    );
  }
  return spec.query.trim();
}

/** Converts OpenSLO documents into the raw shape of streamslo's SLO file (`service`, `window`, `slos`). */
export function fromOpenSlo(text: string, source: string): Obj {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  const slis = new Map<string, Obj>();
  for (const d of docs) {
    if (
      isObj(d) &&
      d.kind === "SLI" &&
      isObj(d.metadata) &&
      typeof d.metadata.name === "string" &&
      isObj(d.spec)
    ) {
      slis.set(d.metadata.name, d.spec);
    }
  }
  const slos = docs.filter((d): d is Obj => isObj(d) && d.kind === "SLO");
  if (slos.length === 0) throw new OpenSloError(`${source}: no OpenSLO document of kind SLO`);
  let service: string | undefined;
  let window: string | undefined;
  const out: Obj[] = [];
  for (const d of slos) {
    const name = isObj(d.metadata) && typeof d.metadata.name === "string" ? d.metadata.name : "slo";
    const where = `${source}: SLO ${name}`;
    const spec = isObj(d.spec) ? d.spec : {};
    if (typeof spec.service === "string") service ??= spec.service;
    if (spec.budgetingMethod !== undefined && spec.budgetingMethod !== "Occurrences") {
      throw new OpenSloError(
        `${where}: budgetingMethod ${String(spec.budgetingMethod)} is not supported; streamslo budgets by Occurrences`,
      );
    }
    const tw = Array.isArray(spec.timeWindow) ? spec.timeWindow[0] : undefined;
    if (isObj(tw)) {
      const duration = String(tw.duration ?? "");
      if (!/^\d+d$/.test(duration) || tw.isRolling === false) {
        throw new OpenSloError(
          `${where}: timeWindow must be rolling and in days (e.g. 30d), got ${duration || "none"}`,
        );
      }
      window ??= duration;
    }
    const sli =
      isObj(spec.indicator) && isObj(spec.indicator.spec)
        ? spec.indicator.spec
        : slis.get(String(spec.indicatorRef ?? ""));
    if (!sli)
      throw new OpenSloError(
        `${where}: no indicator (inline, or indicatorRef to an SLI document in this file)`,
      );
    if (!isObj(sli.ratioMetric))
      throw new OpenSloError(`${where}: only ratioMetric SLIs map to streamslo; thresholdMetric does not`);
    const ratio = sli.ratioMetric;
    const good = query(ratio.good, `${where} good`);
    const total = query(ratio.total, `${where} total`);
    const objectives = Array.isArray(spec.objectives) ? spec.objectives : [];
    if (objectives.length === 0) throw new OpenSloError(`${where}: no objectives`);
    objectives.forEach((o, i) => {
      const target = isObj(o) ? Number(o.target ?? o.targetPercent) : Number.NaN;
      const percent = isObj(o) && o.targetPercent !== undefined ? target : target * 100;
      if (!(percent > 0 && percent < 100))
        throw new OpenSloError(`${where}: objectives[${i}].target must be between 0 and 1`);
      const label =
        isObj(o) && typeof o.displayName === "string"
          ? o.displayName
          : objectives.length > 1
            ? `${i + 1}`
            : "";
      const sloName = `${name}${label ? `-${label}` : ""}`.toLowerCase().replace(/[^a-z0-9_-]+/g, "-");
      out.push({ name: sloName, sli: "ratio", objective: Number(percent.toPrecision(10)), good, total });
    });
  }
  return { service, window, source: "promql", slos: out };
}
