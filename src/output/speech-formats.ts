import { mdTable } from "../core/report/report-markdown.js";
import type { SpeechLevelSummary } from "../core/speech/speech-aggregate.js";
import { speechLevelTable, speechTargetTable } from "../core/speech/speech-tables.js";
import { alignedTable } from "./summary-formats.js";

export function speechTerminalTable(levels: SpeechLevelSummary[]): string {
  const t = speechLevelTable(levels);
  return alignedTable(t.header, t.rows);
}

export function speechTargetsText(levels: SpeechLevelSummary[]): string {
  const t = speechTargetTable(levels);
  return alignedTable(t.header, t.rows);
}

export function speechMarkdownTable(levels: SpeechLevelSummary[]): string {
  return mdTable(speechLevelTable(levels));
}

export function speechCsv(levels: SpeechLevelSummary[]): string {
  const t = speechLevelTable(levels);
  const cell = (c: string) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  return [t.header, ...t.rows].map((r) => r.map(cell).join(",")).join("\n");
}

/** Per level: error codes and which per-stream criteria failing streams missed. */
export function speechDetailLines(levels: SpeechLevelSummary[]): string[] {
  const out: string[] = [];
  for (const l of levels) {
    const codes = Object.entries(l.error_codes).map(([c, n]) => `${c} x${n}`);
    if (codes.length) out.push(`${l.scenario} errors: ${codes.join(", ")}`);
    const missed = Object.entries(l.missed).map(([c, n]) => `${c} ${n}`);
    if (missed.length) out.push(`${l.scenario} streams missing a target: ${missed.join(", ")}`);
    if (l.behind_realtime)
      out.push(`${l.scenario}: ${l.behind_realtime} stream(s) fell behind real time (RTF >= 1.0): scale out`);
  }
  return out;
}
