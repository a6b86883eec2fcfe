import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allCharts, type Chart, MARKDOWN_CHARTS } from "../core/report/chart-specs.js";
import { replayBesideProduction } from "../core/report/replay-beside.js";
import type { ReportInput } from "../core/report/report-input.js";
import {
  documentMarkdown,
  endpointDocument,
  type ReportDocument,
  type TextBlock,
} from "../core/report/report-markdown.js";
import { budgetText, burnDownChart } from "../core/slo/budget-text.js";
import { SliEventCollector } from "../core/slo/sli-events.js";
import { type SpeechRunDoc, speechCharts, speechDocument } from "../core/speech/speech-report.js";
import { traceFormatOf } from "../core/trace.js";
import { renderSvg } from "../output/chart-render.js";
import { productionView } from "../output/proxy-log-reader.js";
import { documentHtml } from "../output/report-html.js";
import { loadReportInput } from "../output/report-reader.js";
import { loadSummaryDocument, RunReadError } from "../output/run-reader.js";
import { firstLine } from "../output/trace-file.js";
import { budgetResults } from "./budget-command.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { productionSpec } from "./rules-command.js";

export interface ReportFlags {
  json: boolean;
  slo?: string;
  timeScale: number;
}

/** Writes report.md (with charts/*.svg) and a self-contained report.html into the run folder. */
export async function reportCommand(dir: string, f: ReportFlags): Promise<number> {
  let doc: { kind?: string; config?: { trace?: unknown } };
  try {
    // Quiet: the report's own reading of the folder says whether it was rebuilt.
    doc = (await loadSummaryDocument(dir, false)) as typeof doc;
  } catch (err) {
    if (err instanceof RunReadError) throw new UsageError(err.message);
    throw err;
  }
  if (doc.kind === "speech") {
    if (f.slo)
      throw new UsageError("--slo budgets apply to LLM runs; a speech run is held to its voice targets");
    const run = doc as unknown as SpeechRunDoc;
    const charts = speechCharts(run);
    return writeReport(
      dir,
      speechDocument(run),
      charts,
      charts.map((c) => c.id),
      f.json,
    );
  }
  let input: ReportInput;
  const spec = f.slo ? productionSpec(f.slo, "--slo") : undefined;
  const collector = spec ? new SliEventCollector(spec.slos, spec.request) : undefined;
  try {
    input = await loadReportInput(dir, collector ? (r) => collector.add(r) : undefined);
  } catch (err) {
    if (err instanceof RunReadError) throw new UsageError(err.message);
    throw err;
  }
  const blocks: TextBlock[] = [];
  const replayed = await replayBlock(doc.config?.trace, input);
  if (replayed) blocks.push(replayed);
  const chartList = allCharts(input);
  if (spec && collector) {
    const budgets = budgetResults(spec, collector, f.timeScale);
    blocks.push({
      title: "Error budget",
      text: budgetText(budgets, { period: spec.period, startedAt: input.startedAt }),
    });
    chartList.push(burnDownChart(budgets));
  }
  return writeReport(
    dir,
    endpointDocument(input, blocks),
    chartList,
    [...MARKDOWN_CHARTS, "budget-burn-down"],
    f.json,
  );
}

/**
 * A run that replayed the proxy's log (`bench --trace proxy.log`) sets its figures beside what the
 * proxy measured of the same requests in production, when the log is still where the run read it.
 */
async function replayBlock(trace: unknown, input: ReportInput): Promise<TextBlock | undefined> {
  // summary.json holds run.json's config: the trace the run replayed, as it was given.
  const level = input.levels.find((l) => l.summary.scenario === "trace");
  if (typeof trace !== "string" || !level) return undefined;
  if (!existsSync(trace) || traceFormatOf(trace, await firstLine(trace)) !== "proxy") return undefined;
  const production = await productionView(trace);
  return production
    ? { title: "Replay beside production", text: replayBesideProduction(production, level.summary) }
    : undefined;
}

/** Renders the charts and writes report.md (with the chosen charts as SVG files) and report.html. */
async function writeReport(
  dir: string,
  doc: ReportDocument,
  chartList: Chart[],
  markdownCharts: string[],
  json: boolean,
): Promise<number> {
  const charts = await Promise.all(chartList.map(async (c) => ({ ...c, svg: await renderSvg(c) })));
  mkdirSync(join(dir, "charts"), { recursive: true });
  const mdCharts = charts.filter((c) => markdownCharts.includes(c.id));
  for (const c of mdCharts) writeFileSync(join(dir, "charts", `${c.id}.svg`), c.svg);
  const md = join(dir, "report.md");
  const html = join(dir, "report.html");
  writeFileSync(
    md,
    documentMarkdown(
      doc,
      mdCharts.map((c) => ({ title: c.title, file: `charts/${c.id}.svg` })),
    ),
  );
  writeFileSync(html, documentHtml(doc, charts));
  if (json)
    process.stdout.write(
      `${JSON.stringify({ markdown: md, html, charts: mdCharts.map((c) => join(dir, "charts", `${c.id}.svg`)) })}\n`,
    );
  else process.stdout.write(`wrote ${md} and ${html}\n`);
  return EXIT.ok;
}
