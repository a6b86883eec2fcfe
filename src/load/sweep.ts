import type { BenchRunner, LevelResult } from "./bench-run.js";

export interface AutoSweepOptions {
  /** Rates to spread between the synchronous and the saturated throughput. */
  levels: number;
  /** Concurrency used to find the saturated throughput. */
  saturationConcurrency: number;
}

/**
 * `--sweep auto`, as guidellm does it: first measure synchronous throughput (one request at a
 * time) and saturated throughput (many at once), then run open-loop rates spread evenly between
 * the two. Every level, the two probes included, is one row of the results.
 */
export async function runAutoSweep(runner: BenchRunner, o: AutoSweepOptions): Promise<LevelResult[]> {
  const results: LevelResult[] = [];
  const sync = await runner.runLevel({ kind: "concurrency", concurrency: 1 });
  if (!sync || runner.stopped) return sync ? [sync] : [];
  results.push(sync);
  const sat = await runner.runLevel({ kind: "concurrency", concurrency: o.saturationConcurrency });
  if (!sat || runner.stopped) return sat ? [...results, sat] : results;
  results.push(sat);
  const low = sync.summary.request_throughput;
  const high = Math.max(low, sat.summary.request_throughput);
  for (const rate of spreadRates(low, high, o.levels)) {
    if (runner.stopped) break;
    const r = await runner.runLevel({ kind: "rate", rate });
    if (r) results.push(r);
  }
  return results;
}

/** `k` rates evenly spaced strictly between `low` and `high` (both excluded: they were measured). */
export function spreadRates(low: number, high: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => low + ((i + 1) * (high - low)) / (k + 1)).filter((r) => r > 0);
}
