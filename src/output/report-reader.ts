import { join } from "node:path";
import type { RequestRecord } from "../core/record.js";
import type { ReportInput, ReportLevel, RunStopView } from "../core/report/report-input.js";
import { TimelineSampler, TimeSeriesBuilder } from "../core/report/time-series.js";
import { loadSummaryDocument, streamRecords } from "./run-reader.js";

interface SummaryDoc {
  run_id?: string;
  started_at?: string;
  endpoint?: { url?: string; model?: string; api?: string; simulator?: unknown };
  levels: (ReportLevel["summary"] & {
    objectives?: ReportLevel["objectives"];
    validity?: { valid: boolean; reasons?: string[]; warnings?: string[] };
    server?: ReportLevel["server"];
  })[];
  baseline?: ReportInput["baseline"] | null;
  capacity?: ReportInput["capacity"] | null;
  interrupted?: boolean;
  stop_reason?: StoppedBy | null;
  config?: BenchConfig;
}

/** summary.json's stop_reason: one of bench's StopReason kinds. */
interface StoppedBy {
  kind: string;
  level?: string;
  errorRate?: number;
  objective?: { objective?: string };
  error?: { code?: string };
}

/** The flags of the run, as bench recorded them (defaults it applies later are absent). */
interface BenchConfig {
  concurrency?: number[];
  rate?: number[];
  sweep?: string;
  findCapacity?: boolean;
  n?: number;
  duration?: number;
}

function stopOf(doc: SummaryDoc): RunStopView | undefined {
  const s = doc.stop_reason;
  // An older summary may carry the flag alone.
  if (!s) return doc.interrupted ? { kind: "interrupted" } : undefined;
  return {
    kind: s.kind,
    level: s.level,
    errorRate: s.errorRate,
    objective: s.objective?.objective,
    errorCode: s.error?.code,
  };
}

/** The levels bench was asked for, named as it names them (levelInfo); a sweep or search picks its own. */
function plannedLevels(c: BenchConfig | undefined): string[] | undefined {
  if (!c || c.sweep || c.findCapacity) return undefined;
  if (c.rate) return c.rate.map((r) => `rate=${Number(r.toPrecision(4))}`);
  return (c.concurrency ?? [1, 4, 8]).map((n) => `c=${n}`);
}

/** Measured requests asked of each level: -n, or bench's default 32; with --duration, n is only a cap. */
function requestedN(c: BenchConfig | undefined): number | undefined {
  if (!c || c.duration !== undefined) return undefined;
  return c.n ?? 32;
}

/** Reads a run folder into everything the report is written from. */
export async function loadReportInput(
  dir: string,
  onRecord?: (r: RequestRecord) => void,
): Promise<ReportInput> {
  const doc = (await loadSummaryDocument(dir)) as unknown as SummaryDoc;
  const series = new TimeSeriesBuilder();
  const timeline = new TimelineSampler();
  await streamRecords(join(dir, "requests.jsonl"), (r) => {
    onRecord?.(r);
    if (r.phase === "baseline") return;
    series.add(r);
    if (r.phase === "measure") timeline.add(r);
  });
  return {
    runId: doc.run_id ?? dir,
    startedAt: doc.started_at ?? "unknown",
    url: doc.endpoint?.url ?? "unknown",
    model: doc.endpoint?.model ?? "unknown model",
    api: doc.endpoint?.api ?? "chat",
    simulator: Boolean(doc.endpoint?.simulator),
    levels: doc.levels.map((l) => ({
      summary: l,
      objectives: l.objectives ?? [],
      valid: l.validity?.valid ?? true,
      invalidReasons: l.validity?.reasons,
      measurementNotes: l.validity?.warnings,
      server: l.server ?? undefined,
    })),
    baseline: doc.baseline ?? undefined,
    capacity: doc.capacity ?? undefined,
    stop: stopOf(doc),
    planned: plannedLevels(doc.config),
    requestedN: requestedN(doc.config),
    series: series.result(),
    timeline: timeline.result(),
  };
}
