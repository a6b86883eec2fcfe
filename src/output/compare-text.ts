import type { CompareMetric, RateMetric, RunComparison, Verdict } from "../core/run-compare.js";

/** How each row names its metric; latencies in ms (median, change, p95), rates single numbers per level. */
const LABEL: Record<CompareMetric | RateMetric, string> = {
  ttft: "ttft ms",
  tpot: "tpot ms",
  e2e: "e2e ms",
  request_throughput: "req/s",
  output_token_throughput: "tok/s",
  goodput_share: "goodput %",
};

const HEADER = ["level", "metric", "A p50", "B p50", "change", "A p95", "B p95", "p-value", "verdict"];

/** About 3 significant digits; decided after rounding, so 99.96 prints as 100, not 100.0. */
function ms(v: number): string {
  if (!Number.isFinite(v)) return "-";
  const r = Math.abs(Number(v.toPrecision(3)));
  return v.toFixed(r >= 100 ? 0 : r >= 10 ? 1 : 2);
}

function percent(change: number): string {
  if (Number.isNaN(change)) return "-";
  if (!Number.isFinite(change)) return change > 0 ? "+inf" : "-inf";
  return `${change >= 0 ? "+" : ""}${(100 * change).toFixed(1)}%`;
}

function pValue(p: number, tooFew: boolean): string {
  if (tooFew) return "-";
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** Throughput and goodput rows carry no test: single numbers per run cannot show noise. */
function rate(metric: RateMetric, v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (metric === "goodput_share") return (100 * v).toFixed(1);
  return metric === "request_throughput" ? v.toFixed(2) : v.toFixed(1);
}

/** One row per level x metric, latencies first, in the order of HEADER. */
export function compareRows(c: RunComparison): string[][] {
  const rows: string[][] = [];
  for (const level of c.levels) {
    for (const m of level.metrics) {
      const tooFew = m.verdict === "too few samples";
      rows.push([
        level.scenario,
        LABEL[m.metric],
        ms(m.a.p50),
        ms(m.b.p50),
        percent(m.change),
        ms(m.a.p95),
        ms(m.b.p95),
        pValue(m.pValue, tooFew),
        m.verdict,
      ]);
    }
    for (const r of level.rates) {
      rows.push([
        level.scenario,
        LABEL[r.metric],
        rate(r.metric, r.a),
        rate(r.metric, r.b),
        percent(r.change),
        "-",
        "-",
        "-",
        "(no test)",
      ]);
    }
  }
  return rows;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** E.g. "2 regressions, 1 improvement, 5 unchanged (Mann-Whitney U, two-sided, alpha 0.05, min change 5%)". */
export function compareHeadline(c: RunComparison): string {
  const n: Record<Verdict, number> = c.counts;
  const parts = [
    plural(n.regression, "regression", "regressions"),
    plural(n.improvement, "improvement", "improvements"),
    `${n["no significant change"]} unchanged`,
  ];
  if (n["too few samples"] > 0) parts.push(`${n["too few samples"]} with too few samples`);
  const min = Number((100 * c.minChange).toPrecision(4));
  return `${parts.join(", ")} (Mann-Whitney U, two-sided, alpha ${c.alpha}, min change ${min}%)`;
}

function unmatchedLines(c: RunComparison): string[] {
  return c.unmatched.map((u) => `${u.scenario}: only in run ${u.onlyIn}, not compared`);
}

/** A fixed-width terminal table, the headline above it and unmatched levels below. */
export function compareText(c: RunComparison, names?: { a: string; b: string }): string {
  const rows = compareRows(c);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const last = HEADER.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        if (i === last) return cell; // no trailing padding
        const w = widths[i] as number;
        return i < 2 ? cell.padEnd(w) : cell.padStart(w);
      })
      .join("  ");
  const out: string[] = [];
  if (names) out.push(`A = ${names.a}`, `B = ${names.b}`);
  out.push(compareHeadline(c));
  if (rows.length > 0) out.push("", line(HEADER), ...rows.map(line));
  const unmatched = unmatchedLines(c);
  if (unmatched.length > 0) out.push("", ...unmatched);
  const turns = turnLines(c);
  if (turns.length > 0) out.push("", "by turn (multi-turn sessions), p50:", ...turns);
  return out.join("\n");
}

/** "c=4 turn 2: TTFT 41.2 -> 12.0 ms (-71%), E2E 820 -> 790 ms (-4%)". */
function turnLines(c: RunComparison): string[] {
  const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${Math.round(100 * x)}%` : "n/a");
  const v = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : "n/a");
  return (c.byTurn ?? []).map(
    (t) =>
      `  ${t.scenario} turn ${t.turn}: TTFT ${v(t.ttft_p50_ms.a)} -> ${v(t.ttft_p50_ms.b)} ms (${pct(t.ttft_p50_ms.change)}), E2E ${v(t.e2e_p50_ms.a)} -> ${v(t.e2e_p50_ms.b)} ms (${pct(t.e2e_p50_ms.change)})`,
  );
}

/** The same comparison as Markdown: headline, table, unmatched levels. */
export function compareMarkdown(c: RunComparison, names?: { a: string; b: string }): string {
  const out: string[] = [];
  if (names) out.push(`A = \`${names.a}\`, B = \`${names.b}\``, "");
  out.push(compareHeadline(c), "");
  const rows = compareRows(c);
  if (rows.length > 0) {
    out.push(`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`);
    for (const r of rows) out.push(`| ${r.join(" | ")} |`);
    out.push("");
  }
  for (const u of unmatchedLines(c)) out.push(`- ${u}`);
  return `${out.join("\n").trimEnd()}\n`;
}
