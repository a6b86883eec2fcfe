import type { Stats } from "../histogram.js";
import type { Table } from "../report/report-tables.js";
import type { SpeechLevelSummary } from "./speech-aggregate.js";

const p = (s: Stats | undefined, k: "p50" | "p95" | "mean" | "min") => (s ? s[k] : Number.NaN);
/** Milliseconds as table cells: 3 significant figures, "-" when there is no value. */
export function cellMs(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "-";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
const ratio = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "-");
const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : "-");

/** One row per level: the speech SLIs in the order a voice team reads them (ms unless named). */
export function speechLevelTable(levels: SpeechLevelSummary[]): Table {
  const tts = levels.some((l) => l.kind === "tts");
  if (tts)
    return {
      title: "Per level (TTS)",
      header: [
        "level",
        "n",
        "ok",
        "err",
        "inc",
        "first audio p50",
        "first audio p95",
        "audio/realtime p50",
        "audio/realtime min",
        "stalls/stream",
        "stall ms p95",
        "audio s/s",
        "good%",
      ],
      rows: levels.map((l) => [
        l.scenario,
        String(l.n),
        String(l.ok),
        String(l.error),
        String(l.incomplete),
        cellMs(p(l.first_audio_ms, "p50")),
        cellMs(p(l.first_audio_ms, "p95")),
        ratio(p(l.realtime_ratio, "p50")),
        ratio(p(l.realtime_ratio, "min")),
        ratio(p(l.stalls_per_stream, "mean")),
        cellMs(p(l.stall_ms, "p95")),
        l.audio_s_per_s.toFixed(2),
        pct(l.goodput.share),
      ]),
    };
  return {
    title: "Per level (STT)",
    header: [
      "level",
      "n",
      "ok",
      "err",
      "inc",
      "setup p50",
      "first partial p50",
      "first partial p95",
      "gap p95",
      "final p50",
      "final p95",
      "RTF p50",
      "RTF p95",
      "behind",
      "WER%",
      "audio s/s",
      "good%",
    ],
    rows: levels.map((l) => [
      l.scenario,
      String(l.n),
      String(l.ok),
      String(l.error),
      String(l.incomplete),
      cellMs(p(l.setup_ms, "p50")),
      cellMs(p(l.first_partial_ms, "p50")),
      cellMs(p(l.first_partial_ms, "p95")),
      cellMs(p(l.partial_gap_ms, "p95")),
      cellMs(p(l.final_ms, "p50")),
      cellMs(p(l.final_ms, "p95")),
      ratio(p(l.rtf, "p50")),
      ratio(p(l.rtf, "p95")),
      String(l.behind_realtime ?? 0),
      l.wer === null || l.wer === undefined ? "-" : pct(l.wer),
      l.audio_s_per_s.toFixed(2),
      pct(l.goodput.share),
    ]),
  };
}

/** Each level's voice targets: target, observed value, pass or FAIL. */
export function speechTargetTable(levels: SpeechLevelSummary[]): Table {
  return {
    title: "Voice targets per level",
    header: ["level", "voice target", "observed", "verdict"],
    rows: levels.flatMap((l) =>
      l.targets.map((t) => [
        l.scenario,
        t.target,
        t.observed === null ? "-" : /^(RTF|drop)/.test(t.target) ? t.observed.toFixed(4) : cellMs(t.observed),
        t.pass ? "pass" : "FAIL",
      ]),
    ),
  };
}
