/** What the text and the speech bench both decide from their flags and their levels. */
import { UsageError } from "./exit-codes.js";

/**
 * Closed loop: each user sends when its last answer ends, so there are no arrivals to shape, and
 * flags that shape them would be ignored.
 */
export function refuseOpenLoopFlags(f: {
  arrivals?: string;
  burstiness?: number;
  rampUp: number;
  maxConcurrency?: number;
}): void {
  const openLoopOnly = [
    f.arrivals !== undefined && "--arrivals",
    f.burstiness !== undefined && f.burstiness !== 1 && "--burstiness",
    f.rampUp > 0 && "--ramp-up",
    f.maxConcurrency !== undefined && "--max-concurrency",
  ].filter(Boolean);
  if (openLoopOnly.length === 0) return;
  const one = openLoopOnly.length === 1;
  throw new UsageError(
    `${openLoopOnly.join(", ")} ${one ? "shapes" : "shape"} open-loop arrivals: add -r RATES, or drop ${one ? "it" : "them"}`,
  );
}

/** Measured requests per level: -n, or 32; a level of --duration alone runs for that long. */
export function measuredPerLevel(f: { n?: number; duration?: number }): number {
  return f.n ?? (f.duration === undefined ? 32 : Number.POSITIVE_INFINITY);
}

/**
 * "http_404 x1, connect_refused x2" when not one request of the run succeeded and every failure has
 * a code retrying cannot fix; undefined otherwise. The run's early stop waits for three such failures:
 * this gives a shorter run the same verdict. Other failures (a 500, a reset) are the endpoint's state.
 */
export function fatalFailures(
  levels: { ok: number; codes: Record<string, number> }[],
  isFatal: (code: string) => boolean,
): string | undefined {
  const codes = new Map<string, number>();
  for (const l of levels)
    for (const [code, n] of Object.entries(l.codes)) codes.set(code, (codes.get(code) ?? 0) + n);
  if (codes.size === 0 || levels.some((l) => l.ok > 0) || ![...codes.keys()].every(isFatal)) return undefined;
  return [...codes].map(([code, n]) => `${code} x${n}`).join(", ");
}
