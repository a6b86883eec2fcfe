import type { Stats } from "../core/histogram.js";
import type { LevelSummary } from "../core/level-aggregate.js";

/** One CSV/Markdown column: header and how to read it from a level. */
interface Column {
  name: string;
  get(s: LevelSummary, run: RunLabel): string | number | undefined;
}

export interface RunLabel {
  runId: string;
  startedAt: string;
}

const stat = (pick: (s: LevelSummary) => Stats, key: keyof Stats) => (s: LevelSummary) => pick(s)[key];

/** The seed's columns first (mode, concurrency, n, median_wall_s, p95_wall_s), then the streaming ones. */
export const CSV_COLUMNS: Column[] = [
  { name: "mode", get: (s) => s.mode },
  { name: "concurrency", get: (s) => s.concurrency },
  { name: "n", get: (s) => s.n },
  { name: "median_wall_s", get: (s) => s.median_wall_s },
  { name: "p95_wall_s", get: (s) => s.p95_wall_s },
  { name: "ok", get: (s) => s.ok },
  { name: "error", get: (s) => s.error },
  { name: "incomplete", get: (s) => s.incomplete },
  { name: "ttft_p50_ms", get: stat((s) => s.ttft_ms, "p50") },
  { name: "ttft_p95_ms", get: stat((s) => s.ttft_ms, "p95") },
  { name: "ttft_p99_ms", get: stat((s) => s.ttft_ms, "p99") },
  { name: "tpot_p50_ms", get: stat((s) => s.tpot_ms, "p50") },
  { name: "tpot_p95_ms", get: stat((s) => s.tpot_ms, "p95") },
  { name: "itl_p50_ms", get: stat((s) => s.itl_token_ms, "p50") },
  { name: "itl_p95_ms", get: stat((s) => s.itl_token_ms, "p95") },
  { name: "itl_p99_ms", get: stat((s) => s.itl_token_ms, "p99") },
  { name: "e2e_p50_ms", get: stat((s) => s.e2e_ms, "p50") },
  { name: "e2e_p95_ms", get: stat((s) => s.e2e_ms, "p95") },
  { name: "jitter_p50_ms", get: stat((s) => s.jitter_ms, "p50") },
  { name: "request_throughput", get: (s) => s.request_throughput },
  { name: "output_token_throughput", get: (s) => s.output_token_throughput },
  { name: "scenario", get: (s) => s.scenario },
  { name: "run_id", get: (_s, r) => r.runId },
  { name: "started_at", get: (_s, r) => r.startedAt },
];

export const CSV_HEADER = CSV_COLUMNS.map((c) => c.name).join(",");

function num(v: number, digits: number): string {
  if (!Number.isFinite(v)) return "";
  return Number(v.toFixed(digits)).toString();
}

function cell(v: string | number | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "number") return num(v, 4);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvRows(levels: LevelSummary[], run: RunLabel): string {
  return levels.map((s) => `${CSV_COLUMNS.map((c) => cell(c.get(s, run))).join(",")}\n`).join("");
}

const MD_COLUMNS = [
  "mode",
  "concurrency",
  "n",
  "median_wall_s",
  "p95_wall_s",
  "ttft_p50_ms",
  "ttft_p95_ms",
  "tpot_p50_ms",
  "itl_p95_ms",
  "ok",
  "error",
  "incomplete",
  "output_token_throughput",
];

export function markdownTable(levels: LevelSummary[], run: RunLabel): string {
  const cols = MD_COLUMNS.map((name) => CSV_COLUMNS.find((c) => c.name === name) as Column);
  const head = `| ${cols.map((c) => c.name).join(" | ")} |\n|${cols.map(() => "---").join("|")}|\n`;
  const rows = levels.map((s) => `| ${cols.map((c) => cell(c.get(s, run))).join(" | ")} |\n`).join("");
  return head + rows;
}

function ms(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A fixed-width table for the terminal: one row per level, latencies in ms. */
export function terminalTable(levels: LevelSummary[]): string {
  const header = [
    "level",
    "n",
    "ok",
    "err",
    "inc",
    "ttft p50",
    "ttft p95",
    "ttft p99",
    "tpot p50",
    "tpot p95",
    "itl p95",
    "e2e p50",
    "e2e p95",
    "wall p95 s",
    "req/s",
    "tok/s",
  ];
  const rows = levels.map((s) => [
    s.scenario,
    String(s.n),
    String(s.ok),
    String(s.error),
    String(s.incomplete),
    ms(s.ttft_ms.p50),
    ms(s.ttft_ms.p95),
    ms(s.ttft_ms.p99),
    ms(s.tpot_ms.p50),
    ms(s.tpot_ms.p95),
    ms(s.itl_token_ms.p95),
    ms(s.e2e_ms.p50),
    ms(s.e2e_ms.p95),
    num(s.p95_wall_s, 3) || "-",
    s.request_throughput.toFixed(2),
    s.output_token_throughput.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** Lines that name each error code and its count, per level; empty when all went well. */
export function errorLines(levels: LevelSummary[]): string[] {
  return levels
    .filter((s) => Object.keys(s.errors_by_code).length > 0)
    .map(
      (s) =>
        `${s.scenario}: ${Object.entries(s.errors_by_code)
          .map(([code, n]) => `${code} x${n}`)
          .join(", ")}`,
    );
}
