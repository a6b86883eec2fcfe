import type { Stats } from "../histogram.js";
import type { LevelSummary } from "../level-aggregate.js";

/** What production saw of the same requests, from the proxy's log: counts and its SLI distributions. */
export interface ProductionView {
  log: string;
  n: number;
  failed: number;
  ttft_ms: Stats;
  e2e_ms: Stats;
}

function pair(s: Stats): string {
  const v = (x: number) => (Number.isFinite(x) ? `${Number(x.toPrecision(3))}` : "n/a");
  return `${v(s.p50)} / ${v(s.p95)} ms`;
}

function share(failed: number, n: number): string {
  return n > 0 ? `${((100 * failed) / n).toFixed(1)}%` : "n/a";
}

/**
 * The replay of a proxy log set beside what the proxy measured of the same traffic: the same
 * requests against two deployments. E2E is the proxy's (to the end of the body) against the replay's
 * wall time, which ends at the same point.
 */
export function replayBesideProduction(p: ProductionView, replay: LevelSummary): string {
  const rows: [string, string, string][] = [
    ["", "production (proxy log)", "replay (this run)"],
    ["requests", String(p.n), String(replay.n)],
    ["failed", share(p.failed, p.n), share(replay.error + replay.incomplete, replay.n)],
    ["TTFT p50 / p95", pair(p.ttft_ms), pair(replay.ttft_ms)],
    ["E2E p50 / p95", pair(p.e2e_ms), pair(replay.wall_ms)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return [`log: ${p.log}`, ...rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`)].join("\n");
}
