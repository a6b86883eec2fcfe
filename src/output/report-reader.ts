import { join } from "node:path";
import type { RequestRecord } from "../core/record.js";
import type { ReportInput, ReportLevel } from "../core/report/report-input.js";
import { TimelineSampler, TimeSeriesBuilder } from "../core/report/time-series.js";
import { readSummaryDocument, streamRecords } from "./run-reader.js";

interface SummaryDoc {
  run_id?: string;
  started_at?: string;
  endpoint?: { url?: string; model?: string; api?: string; simulator?: unknown };
  levels: (ReportLevel["summary"] & {
    objectives?: ReportLevel["objectives"];
    validity?: { valid: boolean };
    server?: ReportLevel["server"];
  })[];
  baseline?: ReportInput["baseline"] | null;
  capacity?: ReportInput["capacity"] | null;
}

/** Reads a run folder into everything the report is written from. */
export async function loadReportInput(
  dir: string,
  onRecord?: (r: RequestRecord) => void,
): Promise<ReportInput> {
  const doc = readSummaryDocument(dir) as unknown as SummaryDoc;
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
      server: l.server ?? undefined,
    })),
    baseline: doc.baseline ?? undefined,
    capacity: doc.capacity ?? undefined,
    series: series.result(),
    timeline: timeline.result(),
  };
}
