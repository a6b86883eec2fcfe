import type { RequestRecord } from "./record.js";

/**
 * Calls `fn` once per output token with the time since the previous token (the first token's is
 * TTFT). A chunk carrying k tokens delivers them together: the first waited the gap, the rest 0.
 */
export function forEachTokenGap(r: RequestRecord, fn: (gapMs: number, index: number) => void): void {
  let prev = r.startMs;
  let index = 0;
  const t = r.chunkTimesMs;
  for (let i = 0; i < t.length; i++) {
    const at = t[i] as number;
    const k = r.chunkTokens[i] ?? 1;
    fn(at - prev, index++);
    for (let j = 1; j < k; j++) fn(0, index++);
    prev = at;
  }
}
