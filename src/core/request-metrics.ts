import type { RequestRecord } from "./record.js";

/**
 * Per-request metrics, derived from raw timestamps (definitions in the README):
 * TTFT = firstContent - start; E2E = last content chunk - start; wall = stream end - start;
 * TPOT = (E2E - TTFT) / (outputTokens - 1); jitter = stddev of the request's per-chunk ITL.
 */
export interface RequestMetrics {
  ttftMs?: number;
  /** TTFT from the intended send time (open loop: includes client-side queueing). */
  ttftQueuedMs?: number;
  e2eMs?: number;
  wallMs?: number;
  tpotMs?: number;
  jitterMs?: number;
  outputTokens: number;
}

/**
 * How long the user waited before seeing any of the answer: TTFT when it streamed, the whole answer
 * when it did not. What a TTFT objective holds a request to, so an answer sent whole cannot pass it unseen.
 */
export function firstOutputMs(m: RequestMetrics): number | undefined {
  return m.ttftMs ?? m.e2eMs;
}

export function outputTokensOf(r: RequestRecord): number {
  if (r.outputTokens !== undefined) return r.outputTokens;
  let n = 0;
  for (const k of r.chunkTokens) n += k;
  return n;
}

export function requestMetrics(r: RequestRecord): RequestMetrics {
  const m: RequestMetrics = { outputTokens: outputTokensOf(r) };
  if (r.endMs !== undefined) m.wallMs = r.endMs - r.startMs;
  const chunks = r.chunkTimesMs;
  if (r.firstContentMs !== undefined) {
    m.ttftMs = r.firstContentMs - r.startMs;
    m.ttftQueuedMs = r.firstContentMs - r.intendedStartMs;
  }
  const last = chunks.length > 0 ? chunks[chunks.length - 1] : undefined;
  if (last !== undefined) m.e2eMs = last - r.startMs;
  if (m.ttftMs !== undefined && m.e2eMs !== undefined && m.outputTokens > 1) {
    m.tpotMs = (m.e2eMs - m.ttftMs) / (m.outputTokens - 1);
  }
  if (chunks.length >= 3) {
    // Welford over the gaps, without building an array of them.
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (let i = 1; i < chunks.length; i++) {
      const gap = (chunks[i] as number) - (chunks[i - 1] as number);
      n++;
      const d = gap - mean;
      mean += d / n;
      m2 += d * (gap - mean);
    }
    m.jitterMs = Math.sqrt(m2 / n);
  }
  return m;
}
