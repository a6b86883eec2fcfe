import { notes, type Section } from "./endpoint-notes.js";
import type { ReportInput } from "./report-input.js";
import { type Table, tables } from "./report-tables.js";

/** A preformatted section (e.g. the error-budget table) added after the generated ones. */
export interface TextBlock {
  title: string;
  text: string;
}

export function mdTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  return [
    `| ${t.header.map(esc).join(" | ")} |`,
    `|${t.header.map(() => "---").join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** Any report: a title, a line on what was measured, note sections, tables and text blocks. */
export interface ReportDocument {
  title: string;
  intro: string;
  sections: Section[];
  tables: Table[];
  blocks: TextBlock[];
}

/** The endpoint SLO notes of an LLM run. */
export function endpointDocument(r: ReportInput, blocks: TextBlock[] = []): ReportDocument {
  return {
    title: `Endpoint SLO notes: ${r.model}`,
    intro: `Run \`${r.runId}\`, started ${r.startedAt}, against ${r.simulator ? "the streamslo simulator" : r.url} (${r.api} API). Every number below comes from this run's measurements.`,
    sections: notes(r),
    tables: tables(r),
    blocks,
  };
}

/** report.md: the notes, the tables, and the key charts as SVG files beside it. */
export function documentMarkdown(d: ReportDocument, charts: { title: string; file: string }[]): string {
  const out: string[] = [`# ${d.title}`, "", d.intro];
  for (const s of d.sections) {
    out.push("", `## ${s.title}`, "");
    for (const p of s.paragraphs) out.push(p, "");
    if (s.bullets) out.push(...s.bullets.map((b) => `- ${b}`), "");
  }
  for (const t of d.tables) out.push(`## ${t.title}`, "", mdTable(t), "");
  for (const b of d.blocks) out.push(`## ${b.title}`, "", "```", b.text, "```", "");
  if (charts.length > 0) {
    out.push("## Charts", "");
    for (const c of charts) out.push(`![${c.title}](${c.file})`, "");
  }
  return `${out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`;
}

export function reportMarkdown(
  r: ReportInput,
  charts: { title: string; file: string }[],
  blocks: TextBlock[] = [],
): string {
  return documentMarkdown(endpointDocument(r, blocks), charts);
}
