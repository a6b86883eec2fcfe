import { notes } from "./endpoint-notes.js";
import type { ReportInput } from "./report-input.js";
import { type Table, tables } from "./report-tables.js";

/** A preformatted section (e.g. the error-budget table) added after the generated ones. */
export interface TextBlock {
  title: string;
  text: string;
}

function mdTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  return [
    `| ${t.header.map(esc).join(" | ")} |`,
    `|${t.header.map(() => "---").join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** report.md: the endpoint SLO notes, the tables, and the key charts as SVG files beside it. */
export function reportMarkdown(
  r: ReportInput,
  charts: { title: string; file: string }[],
  blocks: TextBlock[] = [],
): string {
  const out: string[] = [
    `# Endpoint SLO notes: ${r.model}`,
    "",
    `Run \`${r.runId}\`, started ${r.startedAt}, against ${r.simulator ? "the streamslo simulator" : r.url} (${r.api} API). Every number below comes from this run's measurements.`,
  ];
  for (const s of notes(r)) {
    out.push("", `## ${s.title}`, "");
    for (const p of s.paragraphs) out.push(p, "");
    if (s.bullets) out.push(...s.bullets.map((b) => `- ${b}`), "");
  }
  for (const t of tables(r)) out.push(`## ${t.title}`, "", mdTable(t), "");
  for (const b of blocks) out.push(`## ${b.title}`, "", "```", b.text, "```", "");
  if (charts.length > 0) {
    out.push("## Charts", "");
    for (const c of charts) out.push(`![${c.title}](${c.file})`, "");
  }
  return `${out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`;
}
