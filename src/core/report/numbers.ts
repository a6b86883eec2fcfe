/** Formatting for report prose: every number shown comes through here, so each reads the same way. */

/** The sentence's first letter in capitals: "concurrency 4" -> "Concurrency 4". */
export function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function fmtPct(share: number, digits = 0): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(digits)}%` : "n/a";
}

export function fmtNum(v: number, digits = 2): string {
  return Number.isFinite(v) ? Number(v.toFixed(digits)).toString() : "n/a";
}

/** Rounds up to a figure an SLO can state: 1-2-5 steps at the value's order of magnitude / 10. */
export function roundUpNice(v: number): number {
  if (!(v > 0)) return 0;
  // Two significant figures: the step is at most a tenth of v, so rounding adds under ROUNDING_MARGIN.
  // (Steps of 1, 2, 5 turned 200.4 into 250: +25% over the headroom.)
  const step = 10 ** (Math.floor(Math.log10(v)) - 1);
  return Number((Math.ceil(Number((v / step).toPrecision(12))) * step).toPrecision(12));
}

/** The most roundUpNice adds to a value, as a share of it. */
export const ROUNDING_MARGIN = 0.1;

/** "c=4" -> "concurrency 4", "rate=2.5" -> "2.5 req/s" */
export function loadName(scenario: string): string {
  const [kind, value] = scenario.split("=");
  return kind === "c" ? `concurrency ${value}` : kind === "rate" ? `${value} req/s` : scenario;
}

export function relChange(from: number, to: number): string {
  if (!(from > 0) || !Number.isFinite(to)) return "n/a";
  const r = (to - from) / from;
  return `${r >= 0 ? "+" : ""}${(r * 100).toFixed(0)}%`;
}
