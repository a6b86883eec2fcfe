import { z } from "zod";
import { parseDurationMs } from "../duration.js";
import type { RequestCriteria } from "../slo-spec.js";
import { DAY_MS, promDuration, WORKBOOK_WINDOWS } from "./burn-rate.js";

export const SLI_KINDS = ["availability", "drops", "latency", "goodput", "ratio"] as const;
export const LATENCY_METRICS = ["ttft", "tpot", "itl", "e2e"] as const;
export const SOURCES = ["streamslo", "vllm", "promql"] as const;

export type SliKind = (typeof SLI_KINDS)[number];
export type LatencyMetric = (typeof LATENCY_METRICS)[number];
export type MetricSource = (typeof SOURCES)[number];

/** What a service label value may hold: it also names rule groups and dashboards. */
const SERVICE_VALUE = /^[a-zA-Z0-9_.:-]+$/;

/** One production SLO entry as written in the file (`slos:`). */
export const productionSloEntry = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/)
      .describe("lower case, digits, - and _: used in rule and alert labels"),
    description: z.string().optional(),
    sli: z
      .enum(SLI_KINDS)
      .describe(
        "availability: non-error requests; drops: streams that finished; latency: requests under a threshold; goodput: requests meeting every criterion; ratio: your own good/total PromQL",
      ),
    metric: z.enum(LATENCY_METRICS).optional().describe("latency SLIs: which latency"),
    threshold: z
      .union([z.string().regex(/^\s*\d+(\.\d+)?\s*(us|ms|s|m)?\s*$/), z.number().nonnegative()])
      .optional()
      .describe("latency SLIs: the threshold; must be a bucket boundary of the histogram"),
    objective: z.number().gt(0).lt(100).describe("target in percent, e.g. 99.9"),
    good: z
      .string()
      .optional()
      .describe("ratio SLIs (or an override): PromQL counter selector of good events"),
    total: z
      .string()
      .optional()
      .describe("ratio SLIs (or an override): PromQL counter selector of all events"),
  })
  .strict();

export const productionFields = {
  service: z
    .string()
    .regex(SERVICE_VALUE)
    .optional()
    .describe("the service label value on every rule and alert"),
  labels: z.record(z.string(), z.string()).optional().describe("extra labels on every rule and alert"),
  window: z
    .string()
    .regex(/^\d+d$/)
    .optional()
    .describe("rolling SLO period in days, e.g. 30d (default) or 28d"),
  source: z
    .enum(SOURCES)
    .optional()
    .describe("where the SLIs come from: streamslo proxy metrics (default), vLLM's /metrics, or promql"),
  runbook: z.string().optional().describe("runbook URL put on every alert"),
  selector: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      "source vllm: label matchers on every vLLM series, e.g. {job: vllm-llama-8b}, so one deployment's SLOs do not add up every vLLM in Prometheus",
    ),
  slos: z
    .array(productionSloEntry)
    .optional()
    .describe("production objectives: rules, alerts, dashboards, budgets"),
};

export interface ProductionSlo {
  name: string;
  description?: string;
  sli: SliKind;
  metric?: LatencyMetric;
  /** Latency threshold in seconds. */
  thresholdS?: number;
  /** As a ratio, e.g. 0.999. */
  objective: number;
  good?: string;
  total?: string;
}

export interface ProductionSpec {
  service: string;
  labels: Record<string, string>;
  periodMs: number;
  period: string;
  source: MetricSource;
  runbook?: string;
  /** Exact label matchers on every series of a vllm source (its series know no service). */
  selector: Record<string, string>;
  slos: ProductionSlo[];
  /** The SLO file's per-request criteria: what a goodput SLI judges each request by. */
  request?: RequestCriteria;
}

export class ProductionSpecError extends Error {}

type Raw = {
  name?: string;
  service?: string;
  labels?: Record<string, string>;
  window?: string;
  source?: MetricSource;
  runbook?: string;
  selector?: Record<string, string>;
  slos?: z.infer<typeof productionSloEntry>[];
};

/** Checks what the schema cannot: fields that go together. Names the SLO and field at fault. */
export function productionFromRaw(raw: Raw, source: string): ProductionSpec | undefined {
  if (!raw.slos) return undefined;
  const period = raw.window ?? "30d";
  const days = Number(period.slice(0, -1));
  if (!(days >= 1))
    throw new ProductionSpecError(
      `${source}: window: "${period}" must be a whole number of days, e.g. 30d or 28d`,
    );
  const longest = Math.max(...WORKBOOK_WINDOWS.map((w) => w.longMs));
  if (days * DAY_MS <= longest)
    throw new ProductionSpecError(
      `${source}: window: "${period}" is no longer than the ${promDuration(longest)} ticket alert window; use a longer period (30d or 28d are usual)`,
    );
  for (const [field, map] of [
    ["labels", raw.labels],
    ["selector", raw.selector],
  ] as const)
    for (const key of Object.keys(map ?? {}))
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key))
        throw new ProductionSpecError(
          `${source}: ${field}: "${key}" is not a Prometheus label name (letters, digits and _, not starting with a digit)`,
        );
  for (const [key, value] of Object.entries(raw.selector ?? {}))
    if (/^(=~|!=|!~)/.test(value))
      throw new ProductionSpecError(
        `${source}: selector: ${key}: "${value}" looks like a PromQL operator; selector values are exact label values`,
      );
  if (raw.selector && (raw.source ?? "streamslo") !== "vllm")
    throw new ProductionSpecError(
      `${source}: selector: is for source: vllm; the proxy's series are selected by service`,
    );
  const service = raw.service ?? raw.name;
  if (raw.service === undefined && raw.name !== undefined && !SERVICE_VALUE.test(raw.name))
    throw new ProductionSpecError(
      `${source}: name: "${raw.name}" would be the service label, which takes letters, digits and _ . : -; add service: with such a value`,
    );
  const src = raw.source ?? "streamslo";
  const names = new Set<string>();
  const slos = raw.slos.map((e, i): ProductionSlo => {
    const where = `${source}: slos[${i}] (${e.name})`;
    if (names.has(e.name))
      throw new ProductionSpecError(`${where}: name: "${e.name}" is used twice; SLO names must be unique`);
    names.add(e.name);
    if (e.objective < 50)
      throw new ProductionSpecError(
        `${where}: objective: ${e.objective} is read as a percentage (${e.objective}%); for ${Number((e.objective * 100).toPrecision(6))}% write ${Number((e.objective * 100).toPrecision(6))}`,
      );
    const slo: ProductionSlo = {
      name: e.name,
      description: e.description,
      sli: e.sli,
      objective: Number((e.objective / 100).toPrecision(12)), // 99.9 / 100 is 0.9990000000000001
      good: e.good,
      total: e.total,
    };
    if (e.sli === "latency") {
      if (!e.metric)
        throw new ProductionSpecError(
          `${where}: metric: latency SLIs need one of ${LATENCY_METRICS.join(", ")}`,
        );
      if (e.threshold === undefined)
        throw new ProductionSpecError(`${where}: threshold: latency SLIs need a threshold, e.g. 300ms`);
      slo.metric = e.metric;
      slo.thresholdS = (parseDurationMs(e.threshold) as number) / 1000;
    } else if (e.metric !== undefined || e.threshold !== undefined) {
      throw new ProductionSpecError(`${where}: metric and threshold belong to latency SLIs only`);
    }
    if ((e.good === undefined) !== (e.total === undefined)) {
      throw new ProductionSpecError(`${where}: good and total go together`);
    }
    if ((e.sli === "ratio" || src === "promql") && e.good === undefined) {
      throw new ProductionSpecError(
        `${where}: good, total: ${e.sli === "ratio" ? "ratio SLIs" : "with source: promql, every SLI"} needs good and total PromQL selectors`,
      );
    }
    return slo;
  });
  return {
    service: service ?? "streamslo",
    labels: raw.labels ?? {},
    periodMs: days * DAY_MS,
    period,
    source: src,
    runbook: raw.runbook,
    selector: raw.selector ?? {},
    slos,
  };
}
