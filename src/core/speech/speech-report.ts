import type { Chart, ChartSpec } from "../report/chart-specs.js";
import type { Section } from "../report/endpoint-notes.js";
import { fmtMs, fmtNum, fmtPct, loadName } from "../report/numbers.js";
import type { ReportDocument } from "../report/report-markdown.js";
import type { SpeechLevelSummary } from "./speech-aggregate.js";
import { speechLevelTable, speechTargetTable } from "./speech-tables.js";
import type { VoiceTargets } from "./voice-targets.js";

/** What a speech run's summary.json holds that the report reads. */
export interface SpeechRunDoc {
  run_id: string;
  started_at: string;
  endpoint: { url: string; protocol: string; adapter?: string; simulator?: unknown };
  audio?: { file?: string; duration_ms?: number; frame_ms?: number };
  targets: VoiceTargets;
  levels: SpeechLevelSummary[];
}

const load = (l: SpeechLevelSummary) => l.concurrency ?? l.rate ?? 0;
const loadUnit = (levels: SpeechLevelSummary[]) =>
  levels.some((l) => l.rate !== undefined) ? "streams/s" : "streams";

/** Least-squares line through (x, y); undefined with fewer than two distinct x. */
export function linearFit(points: [number, number][]): { slope: number; intercept: number } | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

/** The load at which a rising fitted line reaches `y`, if it rises. */
function loadAt(fit: ReturnType<typeof linearFit>, y: number): number | undefined {
  if (!fit || !(fit.slope > 0)) return undefined;
  return (y - fit.intercept) / fit.slope;
}

function targetsSection(d: SpeechRunDoc): Section {
  const passing = d.levels.filter((l) => l.targets.every((t) => t.pass));
  const best = passing.sort((a, b) => load(b) - load(a))[0];
  const paragraphs: string[] = [];
  const audio = d.audio?.duration_ms ? ` on ${fmtNum(d.audio.duration_ms / 1000, 1)} s utterances` : "";
  if (best) {
    const what =
      best.kind === "stt"
        ? `first partial p95 ${fmtMs(best.first_partial_ms?.p95 ?? Number.NaN)}, final p95 ${fmtMs(best.final_ms?.p95 ?? Number.NaN)}, RTF p95 ${fmtNum(best.rtf?.p95 ?? Number.NaN, 3)}`
        : `first audio p95 ${fmtMs(best.first_audio_ms?.p95 ?? Number.NaN)}`;
    paragraphs.push(
      `The highest load that met every voice target${audio} was **${loadName(best.scenario)}** (${what}, ${fmtPct(best.drop_rate, 2)} of streams failed or dropped).`,
    );
  } else paragraphs.push(`No level met every voice target${audio}.`);
  const bullets = d.levels.flatMap((l) =>
    l.targets
      .filter((t) => !t.pass)
      .map(
        (t) =>
          `${loadName(l.scenario)}: ${t.target} failed (observed ${t.observed === null ? "nothing" : fmtNum(t.observed, 3)}).`,
      ),
  );
  return { title: "Voice targets", paragraphs, bullets };
}

function rtfSection(levels: SpeechLevelSummary[], target: number): Section | undefined {
  const pts = levels
    .filter((l) => l.rtf && l.rtf.count > 0)
    .map((l) => [load(l), l.rtf?.p95 ?? 0] as [number, number]);
  if (pts.length === 0) return undefined;
  const paragraphs = [
    `RTF p95 by load: ${pts.map(([x, y]) => `${fmtNum(y, 3)} at ${fmtNum(x, 2)}`).join(", ")} (${loadUnit(levels)}). RTF here is the final latency divided by the audio's length; at 1.0 the server can no longer finish an utterance within the time it takes to say it, which is the signal to scale out.`,
  ];
  const fit = linearFit(pts);
  const atTarget = loadAt(fit, target);
  const atOne = loadAt(fit, 1);
  if (fit && atOne !== undefined)
    paragraphs.push(
      `A straight line through these points (RTF = ${fmtNum(fit.intercept, 3)} + ${fmtNum(fit.slope, 4)} per stream) reaches the ${target} target at about ${fmtNum(Math.max(0, atTarget ?? 0), 1)} and 1.0 at about ${fmtNum(atOne, 1)} ${loadUnit(levels)}: an extrapolation, to be confirmed by a level near it.`,
    );
  const behind = levels.filter((l) => (l.behind_realtime ?? 0) > 0);
  if (behind.length)
    paragraphs.push(
      `Streams fell behind real time at ${behind.map((l) => `${loadName(l.scenario)} (${l.behind_realtime})`).join(", ")}.`,
    );
  return { title: "Real-time factor and when to scale out", paragraphs };
}

function ttsRateSection(levels: SpeechLevelSummary[]): Section | undefined {
  const pts = levels
    .filter((l) => l.realtime_ratio && l.realtime_ratio.count > 0)
    .map((l) => [load(l), l.realtime_ratio?.p50 ?? 0] as [number, number]);
  if (pts.length === 0) return undefined;
  const stalled = levels.filter((l) => (l.stalls_per_stream?.mean ?? 0) > 0);
  return {
    title: "Audio rate against playback",
    paragraphs: [
      `Audio arrived at ${pts.map(([x, y]) => `${fmtNum(y, 2)}x real time at ${fmtNum(x, 2)}`).join(", ")} (${loadUnit(levels)}, median stream). Below 1.0x the listener's buffer runs dry and playback stalls.`,
      stalled.length
        ? `Playback stalled at ${stalled.map((l) => `${loadName(l.scenario)} (${fmtNum(l.stalls_per_stream?.mean ?? 0, 1)} stalls per stream, p95 ${fmtMs(l.stall_ms?.p95 ?? Number.NaN)} stalled)`).join(", ")}.`
        : "No stream stalled at any level.",
    ],
  };
}

function accuracySection(levels: SpeechLevelSummary[]): Section | undefined {
  const withWer = levels.filter((l) => l.wer !== null && l.wer !== undefined);
  if (withWer.length === 0) return undefined;
  return {
    title: "Transcript accuracy",
    paragraphs: [
      `Word error rate against the reference (normalised text, edit distance over words): ${withWer.map((l) => `${fmtPct(l.wer ?? 0, 1)} at ${loadName(l.scenario)}`).join(", ")}. A WER that rises with load means the server trades accuracy for speed (shorter beams, dropped audio).`,
    ],
  };
}

function goodputSection(levels: SpeechLevelSummary[]): Section {
  return {
    title: "Goodput",
    paragraphs: [
      `Streams that completed and met every per-stream target: ${levels.map((l) => `${fmtPct(l.goodput.share)} (${fmtNum(l.goodput.rate_per_s, 2)}/s) at ${loadName(l.scenario)}`).join(", ")}.`,
    ],
  };
}

export function speechDocument(d: SpeechRunDoc): ReportDocument {
  const stt = d.levels.some((l) => l.kind === "stt");
  const what = stt
    ? `speech-to-text over WebSocket (${d.endpoint.adapter ?? "?"} protocol)`
    : "streaming text-to-speech";
  const sections = [
    targetsSection(d),
    stt ? rtfSection(d.levels, d.targets.rtf) : ttsRateSection(d.levels),
    goodputSection(d.levels),
    accuracySection(d.levels),
  ].filter((s): s is Section => s !== undefined);
  return {
    title: `Voice SLO notes: ${stt ? "STT" : "TTS"}`,
    intro: `Run \`${d.run_id}\`, started ${d.started_at}: ${what} against ${d.endpoint.simulator ? "the streamslo simulator" : d.endpoint.url}. Every number below comes from this run's measurements.`,
    sections,
    tables: [speechLevelTable(d.levels), speechTargetTable(d.levels)],
    blocks: [],
  };
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function lineChart(
  id: string,
  title: string,
  values: { load: number; series: string; y: number }[],
  yTitle: string,
  xTitle: string,
  rules: { y: number; label: string }[] = [],
): Chart {
  const line: ChartSpec = {
    data: { values: values.filter((v) => Number.isFinite(v.y)) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "load", type: "quantitative", title: xTitle },
      y: { field: "y", type: "quantitative", title: yTitle },
      color: { field: "series", type: "nominal", title: null },
    },
  };
  const rule: ChartSpec = {
    data: { values: rules },
    mark: { type: "rule", strokeDash: [4, 4], color: "#c0392b" },
    encoding: { y: { field: "y", type: "quantitative" } },
  };
  return {
    id,
    title,
    spec: { $schema: SCHEMA, title, width: 560, height: 260, layer: rules.length ? [line, rule] : [line] },
  };
}

/** Charts of a speech run: RTF (or audio rate) and latency against load, and goodput per level. */
export function speechCharts(d: SpeechRunDoc): Chart[] {
  const x = d.levels.some((l) => l.rate !== undefined) ? "offered rate (streams/s)" : "concurrent streams";
  const stt = d.levels.some((l) => l.kind === "stt");
  const v = (series: string, pick: (l: SpeechLevelSummary) => number | undefined) =>
    d.levels.map((l) => ({ load: load(l), series, y: pick(l) ?? Number.NaN }));
  const goodput: Chart = {
    id: "speech-goodput",
    title: "Goodput per level",
    spec: {
      $schema: SCHEMA,
      title: "Share of streams meeting every voice target",
      width: 560,
      height: 220,
      data: { values: d.levels.map((l) => ({ scenario: l.scenario, goodput: l.goodput.share })) },
      mark: "bar",
      encoding: {
        x: { field: "scenario", type: "nominal", sort: null, title: "level" },
        y: {
          field: "goodput",
          type: "quantitative",
          title: "goodput",
          scale: { domain: [0, 1] },
          axis: { format: "%" },
        },
      },
    },
  };
  if (stt)
    return [
      lineChart(
        "rtf-vs-load",
        "Real-time factor vs load (1.0 = falling behind speech)",
        [...v("RTF p50", (l) => l.rtf?.p50), ...v("RTF p95", (l) => l.rtf?.p95)],
        "RTF",
        x,
        [
          { y: 1, label: "real time" },
          { y: d.targets.rtf, label: "target" },
        ],
      ),
      lineChart(
        "speech-latency-vs-load",
        "First partial and final latency vs load",
        [
          ...v("first partial p95", (l) => l.first_partial_ms?.p95),
          ...v("final p95", (l) => l.final_ms?.p95),
        ],
        "ms",
        x,
        [
          { y: d.targets.firstPartialMs, label: "first partial target" },
          { y: d.targets.finalMs, label: "final target" },
        ],
      ),
      goodput,
    ];
  return [
    lineChart(
      "audio-rate-vs-load",
      "Audio delivered per second of playback vs load (below 1.0 = stalls)",
      [
        ...v("median stream", (l) => l.realtime_ratio?.p50),
        ...v("slowest stream", (l) => l.realtime_ratio?.min),
      ],
      "x real time",
      x,
      [{ y: 1, label: "real time" }],
    ),
    lineChart(
      "first-audio-vs-load",
      "Time to first audio vs load",
      [...v("p50", (l) => l.first_audio_ms?.p50), ...v("p95", (l) => l.first_audio_ms?.p95)],
      "ms",
      x,
      [{ y: d.targets.firstAudioMs, label: "target" }],
    ),
    goodput,
  ];
}
