import type { Stats } from "../core/histogram.js";
import type { LevelSummary } from "../core/level-aggregate.js";
import { observedText } from "../core/objective.js";
import {
  clientTtftBesideServer,
  firstChunkCaveat,
  MIN_GAUGE_READINGS,
  sampledPeak,
} from "../core/server-view.js";
import type { LevelResult } from "../load/bench-run.js";

/** One CSV/Markdown column: header and how to read it from a level. */
interface Column {
  name: string;
  get(s: LevelSummary, run: RunLabel, r: LevelResult): string | number | undefined;
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
  { name: "rate", get: (s) => s.rate },
  { name: "ok", get: (s) => s.ok },
  { name: "error", get: (s) => s.error },
  { name: "incomplete", get: (s) => s.incomplete },
  { name: "ttft_p50_ms", get: stat((s) => s.ttft_ms, "p50") },
  { name: "ttft_p95_ms", get: stat((s) => s.ttft_ms, "p95") },
  { name: "ttft_p99_ms", get: stat((s) => s.ttft_ms, "p99") },
  { name: "ttft_queued_p95_ms", get: stat((s) => s.ttft_queued_ms, "p95") },
  { name: "tpot_p50_ms", get: stat((s) => s.tpot_ms, "p50") },
  { name: "tpot_p95_ms", get: stat((s) => s.tpot_ms, "p95") },
  { name: "itl_p50_ms", get: stat((s) => s.itl_token_ms, "p50") },
  { name: "itl_p95_ms", get: stat((s) => s.itl_token_ms, "p95") },
  { name: "itl_p99_ms", get: stat((s) => s.itl_token_ms, "p99") },
  { name: "e2e_p50_ms", get: stat((s) => s.e2e_ms, "p50") },
  { name: "e2e_p95_ms", get: stat((s) => s.e2e_ms, "p95") },
  { name: "jitter_p50_ms", get: stat((s) => s.jitter_ms, "p50") },
  { name: "send_lag_p99_ms", get: stat((s) => s.send_lag_ms, "p99") },
  { name: "goodput", get: (s) => s.goodput.share },
  { name: "goodput_rate", get: (s) => s.goodput.rate },
  { name: "fluidity_p50", get: stat((s) => s.fluidity, "p50") },
  {
    name: "slo_pass",
    get: (_s, _r, r) => (r.objectives.length ? String(r.objectives.every((o) => o.pass)) : ""),
  },
  { name: "valid", get: (_s, _r, r) => String(r.validity.valid) },
  { name: "request_throughput", get: (s) => s.request_throughput },
  { name: "output_token_throughput", get: (s) => s.output_token_throughput },
  { name: "scenario", get: (s) => s.scenario },
  { name: "run_id", get: (_s, r) => r.runId },
  { name: "started_at", get: (_s, r) => r.startedAt },
  // Added last, so scripts that read the earlier columns by position still find them.
  { name: "achieved_rate", get: (s) => s.achieved_rate ?? undefined },
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

export function csvRows(levels: LevelResult[], run: RunLabel): string {
  return levels.map((r) => `${CSV_COLUMNS.map((c) => cell(c.get(r.summary, run, r))).join(",")}\n`).join("");
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
  "goodput",
];

/** The main columns; open-loop runs add the rates and send lag, runs with objectives their verdict. */
export function markdownTable(levels: LevelResult[], run: RunLabel): string {
  const names = levels.some((r) => r.summary.rate !== undefined)
    ? ["mode", "rate", "achieved_rate", "send_lag_p99_ms", ...MD_COLUMNS.slice(1)]
    : [...MD_COLUMNS];
  if (levels.some((r) => r.objectives.length > 0)) names.push("slo_pass");
  if (levels.some((r) => !r.validity.valid)) names.push("valid");
  const cols = names.map((name) => CSV_COLUMNS.find((c) => c.name === name) as Column);
  const head = `| ${cols.map((c) => c.name).join(" | ")} |\n|${cols.map(() => "---").join("|")}|\n`;
  const rows = levels
    .map((r) => `| ${cols.map((c) => cell(c.get(r.summary, run, r))).join(" | ")} |\n`)
    .join("");
  return head + rows;
}

function ms(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Columns padded to their widest cell: the first left-aligned (names), the rest right-aligned (numbers). */
export function alignedTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** A fixed-width table for the terminal: one row per level, latencies in ms. */
export function terminalTable(results: LevelResult[]): string {
  const levels = results.map((r) => r.summary);
  const withGoodput = results.some(
    (r) => r.objectives.length > 0 || Object.keys(r.summary.goodput.missed_by).some((k) => k !== "outcome"),
  );
  const openLoop = levels.some((s) => s.rate !== undefined);
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
    "itl/tok p95",
    "e2e p50",
    "e2e p95",
    "wall p95 s",
    "req/s",
    "tok/s",
    ...(withGoodput ? ["good%"] : []),
    ...(openLoop ? ["sent/s", "lag p99"] : []),
  ];
  const rows = levels.map((s, i) => [
    results[i]?.validity.valid === false ? `${s.scenario} (!)` : s.scenario,
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
    ...(withGoodput ? [(100 * s.goodput.share).toFixed(1)] : []),
    // The rate the client kept, beside the offered one in the level's name, and how late it sent.
    ...(openLoop
      ? s.rate === undefined
        ? ["-", "-"]
        : [s.achieved_rate?.toFixed(2) ?? "-", ms(s.send_lag_ms.p99)]
      : []),
  ]);
  return alignedTable(header, rows);
}

/** Lines that name each error code and its count, per level; empty when all went well. */
export function errorLines(results: LevelResult[]): string[] {
  return results
    .map((r) => r.summary)
    .filter((s) => Object.keys(s.errors_by_code).length > 0)
    .map(
      (s) =>
        `${s.scenario}: ${Object.entries(s.errors_by_code)
          .map(([code, n]) => `${code} x${n}`)
          .join(", ")}`,
    );
}

/** A matrix of objectives (rows) by level (columns): observed value and pass/FAIL. */
export function objectivesTable(results: LevelResult[]): string {
  const withObjectives = results.filter((r) => r.objectives.length > 0);
  const first = withObjectives[0];
  if (!first) return "";
  const header = ["objective", ...withObjectives.map((r) => r.summary.scenario)];
  const rows = first.objectives.map((o, i) => [
    o.objective,
    ...withObjectives.map((r) => {
      const x = r.objectives[i];
      return x ? `${observedText(x.observed, x.objective, ms)} ${x.pass ? "pass" : "FAIL"}` : "-";
    }),
  ]);
  return alignedTable(header, rows);
}

/** "c=4: peak running 4 (server, 9 readings), 4 in flight (client)": the server's sampled gauge beside the client's exact count. */
function serverLoadLine(s: LevelResult["summary"], server: NonNullable<LevelResult["server"]>): string {
  const readings = server.gauge_readings ?? 0;
  const peak = sampledPeak(server, server.running_peak);
  if (server.running_peak === undefined && readings >= MIN_GAUGE_READINGS)
    return `${s.scenario}: ${s.in_flight_peak ?? "-"} in flight at most (client); the server shows no running gauge`;
  const running =
    peak !== undefined
      ? `peak running ${peak} (server, ${readings} readings)`
      : `peak running unmeasured (server gauges read ${readings} times, under ${MIN_GAUGE_READINGS})`;
  return `${s.scenario}: ${running}, ${s.in_flight_peak ?? "-"} in flight (client)`;
}

/** "c=4: 32 sessions (32 whole, 0 broken), 1.9 s p50; TTFT p50 by turn: 1: 41.2 ms (52 tok), 2: 12.0 ms (131 tok)". */
function sessionsLine(scenario: string, x: NonNullable<LevelResult["summary"]["sessions"]>): string {
  const turns = x.by_turn
    .map(
      (t) =>
        `${t.turn}: ${ms(t.ttft_ms.p50)} ms (${Number.isFinite(t.input_tokens.p50) ? t.input_tokens.p50 : "-"} tok)`,
    )
    .join(", ");
  const dur = Number.isFinite(x.duration_s.p50) ? `, ${x.duration_s.p50.toFixed(2)} s p50` : "";
  return `${scenario}: ${x.completed + x.broken} sessions (${x.completed} whole, ${x.broken} broken)${dur}; TTFT p50 by turn: ${turns}`;
}

/** Goodput, what the failing requests missed, output quality, and validity warnings, per level. */
export function detailLines(results: LevelResult[]): string[] {
  const lines: string[] = [];
  for (const { summary: s, validity, server } of results) {
    if (s.sessions) lines.push(sessionsLine(s.scenario, s.sessions));
    if (server) lines.push(serverLoadLine(s, server));
    if (server?.decode_ms_per_token !== undefined) {
      const prefill = server.prefill_ms_per_token;
      lines.push(
        `${s.scenario}: server (${server.family}) decode ${ms(server.decode_ms_per_token)} ms/token (client TPOT p50 ${Number.isFinite(s.tpot_ms.p50) ? `${ms(s.tpot_ms.p50)} ms` : "-"})${prefill !== undefined ? `, prefill ${ms(prefill)} ms/prompt token` : ""}`,
      );
    }
    if (server?.ttft_mean_ms !== undefined) {
      const serverTtft = `${s.scenario}: server (${server.family}) mean TTFT ${ms(server.ttft_mean_ms)} ms`;
      const waiting = `peak waiting ${sampledPeak(server, server.waiting_peak) ?? "-"}`;
      // Without streaming the client sees no first token, so there is no gap to show.
      const client = clientTtftBesideServer({ summary: s, server });
      lines.push(
        s.ttft_ms.count > 0
          ? `${serverTtft} vs client ${ms(client)} ms${server.client_ttft_mean_ms !== undefined ? " (same requests)" : ""}: network + HTTP + client ${ms(client - server.ttft_mean_ms)} ms${firstChunkCaveat(server)}; ${waiting}`
          : `${serverTtft}; ${waiting}`,
      );
    }
    const missed = Object.entries(s.goodput.missed_by);
    if (missed.length > 0 && missed.some(([k]) => k !== "outcome")) {
      lines.push(
        `${s.scenario}: goodput ${(100 * s.goodput.share).toFixed(1)}% (${s.goodput.good}/${s.n}), ${s.goodput.rate.toFixed(2)} good req/s; missed ${missed.map(([k, n]) => `${k} x${n}`).join(", ")}`,
      );
    }
    if (s.quality) {
      const q = s.quality;
      lines.push(
        `${s.scenario}: quality ${(100 * q.pass_rate).toFixed(1)}% x infrastructure ${(100 * q.infra_success_rate).toFixed(1)}% = end-to-end ${(100 * q.e2e_quality).toFixed(1)}%`,
      );
    }
    for (const reason of validity.reasons) lines.push(`${s.scenario}: RESULT INVALID: ${reason}`);
    for (const warning of validity.warnings ?? []) lines.push(`${s.scenario}: note: ${warning}`);
  }
  return lines;
}
