import { observedText } from "../objective.js";
import { clientTtftBesideServer, sampledPeak } from "../server-view.js";
import { fmtMs, fmtNum, fmtPct, loadName } from "./numbers.js";
import type { ReportInput, ServerView } from "./report-input.js";

/** A table as header + rows of already formatted cells: both Markdown and HTML render it. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

export function levelTable(r: ReportInput): Table {
  return {
    title: "Per-level results",
    header: [
      "level",
      "mode",
      "n",
      "ok/err/inc",
      "median_wall_s",
      "p95_wall_s",
      "TTFT p50",
      "TTFT p95",
      "TPOT p50",
      "TPOT p95",
      "ITL/tok p95",
      "E2E p95",
      "req/s",
      "tokens/s",
      "goodput",
    ],
    rows: r.levels.map(({ summary: s, valid }) => [
      `${loadName(s.scenario)}${valid ? "" : " (invalid)"}`,
      s.mode,
      String(s.n),
      `${s.ok}/${s.error}/${s.incomplete}`,
      fmtNum(s.median_wall_s, 3),
      fmtNum(s.p95_wall_s, 3),
      fmtMs(s.ttft_ms.p50),
      fmtMs(s.ttft_ms.p95),
      fmtMs(s.tpot_ms.p50),
      fmtMs(s.tpot_ms.p95),
      fmtMs(s.itl_token_ms.p95),
      fmtMs(s.e2e_ms.p95),
      fmtNum(s.request_throughput, 2),
      fmtNum(s.output_token_throughput, 1),
      fmtPct(s.goodput.share, 1),
    ]),
  };
}

/** A sampled gauge's peak, or why it is not shown (too few readings over the level). */
function peakText(v: ServerView | undefined, peak: number | undefined, fmt: (x: number) => string): string {
  const shown = sampledPeak(v, peak);
  if (shown !== undefined) return fmt(shown);
  return peak !== undefined ? `n/a (${v?.gauge_readings ?? 0} readings)` : "n/a";
}

/** Multi-turn runs: TTFT and E2E by turn index, per level (turn 1 against the rest is the prefix-cache story). */
export function turnsTable(r: ReportInput): Table | undefined {
  const rows = r.levels.filter((l) => l.summary.sessions);
  if (rows.length === 0) return undefined;
  return {
    title: "By turn (multi-turn sessions)",
    header: ["level", "turn", "requests", "prompt tokens p50", "TTFT p50", "TTFT p95", "E2E p50", "E2E p95"],
    rows: rows.flatMap(({ summary: s }) =>
      (s.sessions?.by_turn ?? []).map((t) => [
        loadName(s.scenario),
        String(t.turn),
        `${t.ok} of ${t.n}`,
        Number.isFinite(t.input_tokens.p50) ? fmtNum(t.input_tokens.p50, 0) : "n/a",
        fmtMs(t.ttft_ms.p50),
        fmtMs(t.ttft_ms.p95),
        fmtMs(t.e2e_ms.p50),
        fmtMs(t.e2e_ms.p95),
      ]),
    ),
  };
}

export function serverTable(r: ReportInput): Table | undefined {
  const rows = r.levels.filter((l) => l.server);
  if (rows.length === 0) return undefined;
  // llama.cpp has no TTFT or queue histogram, but times decode and prefill per token: show what it has.
  const perToken = rows.some((l) => l.server?.decode_ms_per_token !== undefined);
  return {
    title: `Server's own metrics (${rows[0]?.server?.family}), beside the client's exact peak in flight`,
    header: [
      "level",
      "client TTFT mean",
      "server TTFT mean",
      "network + HTTP + client",
      "server queue mean",
      ...(perToken ? ["server decode / token", "client TPOT p50", "server prefill / token"] : []),
      "peak running",
      "client in flight",
      "peak waiting",
      "peak KV cache",
    ],
    rows: rows.map(({ summary: s, server: v }) => {
      // No gap without the client's own TTFT (a run without streaming reads back null there).
      const beside = clientTtftBesideServer({ summary: s, server: v });
      const client = Number.isFinite(beside) ? beside : Number.NaN;
      const gap = v?.ttft_mean_ms !== undefined ? client - v.ttft_mean_ms : Number.NaN;
      return [
        loadName(s.scenario),
        Number.isFinite(client) ? fmtMs(client) : "n/a",
        v?.ttft_mean_ms !== undefined ? fmtMs(v.ttft_mean_ms) : "n/a",
        Number.isFinite(gap) ? `${fmtMs(gap)} (${fmtPct(gap / client)})` : "n/a",
        v?.queue_mean_ms !== undefined ? fmtMs(v.queue_mean_ms) : "n/a",
        ...(perToken
          ? [
              v?.decode_ms_per_token !== undefined ? fmtMs(v.decode_ms_per_token) : "n/a",
              Number.isFinite(s.tpot_ms.p50) ? fmtMs(s.tpot_ms.p50) : "n/a",
              v?.prefill_ms_per_token !== undefined ? fmtMs(v.prefill_ms_per_token) : "n/a",
            ]
          : []),
        peakText(v, v?.running_peak, (x) => fmtNum(x, 0)),
        s.in_flight_peak !== undefined ? fmtNum(s.in_flight_peak, 0) : "n/a",
        peakText(v, v?.waiting_peak, (x) => fmtNum(x, 0)),
        peakText(v, v?.kv_usage_peak, fmtPct),
      ];
    }),
  };
}

export function objectivesTable(r: ReportInput): Table | undefined {
  const withObjectives = r.levels.filter((l) => l.objectives.length > 0);
  const first = withObjectives[0];
  if (!first) return undefined;
  return {
    title: "SLO objectives",
    header: ["objective", ...withObjectives.map((l) => loadName(l.summary.scenario))],
    rows: first.objectives.map((o, i) => [
      o.objective,
      ...withObjectives.map((l) => {
        const x = l.objectives[i];
        if (!x) return "-";
        return `${observedText(x.observed, x.objective, fmtMs)} ${x.pass ? "pass" : "FAIL"}`;
      }),
    ]),
  };
}

export function baselineTable(r: ReportInput): Table | undefined {
  const b = r.baseline;
  if (!b) return undefined;
  const row = (name: string, s: { count: number; p50: number; min: number; max: number }) => [
    name,
    String(s.count),
    fmtMs(s.p50),
    fmtMs(s.min),
    fmtMs(s.max),
  ];
  return {
    title: "Plain-HTTP baseline (one request at a time)",
    header: ["request", "n", "p50", "min", "max"],
    rows: [
      row("full answer, not streamed (wall)", b.plain_wall_ms),
      row("one-token answer, not streamed (wall)", b.tiny_wall_ms),
      row("one-token answer, streamed (TTFT)", b.tiny_ttft_ms),
    ],
  };
}

export function tables(r: ReportInput): Table[] {
  return [levelTable(r), objectivesTable(r), turnsTable(r), serverTable(r), baselineTable(r)].filter(
    (t): t is Table => t !== undefined,
  );
}
