import type { RequestRecord } from "./record.js";
import { firstOutputMs, requestMetrics } from "./request-metrics.js";
import type { OutputCheck, RequestCriteria } from "./slo-spec.js";

/** A request's verdict against the per-request criteria: good, or the criteria it missed. */
export interface RequestJudgement {
  good: boolean;
  missed: string[];
  /** Whether the answer passed the output checks (ok requests, when checks exist). */
  quality?: boolean;
}

function longestGapMs(r: RequestRecord): number {
  let max = 0;
  const t = r.chunkTimesMs;
  for (let i = 1; i < t.length; i++) {
    const gap = (t[i] as number) - (t[i - 1] as number);
    if (gap > max) max = gap;
  }
  return max;
}

export function passesOutputCheck(text: string, c: OutputCheck): boolean {
  if (c.contains !== undefined && !text.includes(c.contains)) return false;
  if (c.regex && !c.regex.test(text)) return false;
  if (c.json) {
    try {
      JSON.parse(text);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Judges one request. An error or a broken stream misses "outcome" and nothing else is checked;
 * a metric a request cannot have (TPOT of a one-token answer) is not held against it.
 */
export function judgeRequest(r: RequestRecord, c: RequestCriteria): RequestJudgement {
  if (r.outcome !== "ok") return { good: false, missed: ["outcome"] };
  const m = requestMetrics(r);
  const missed: string[] = [];
  // Timed from when the request was due: in an open loop, time queued in the client (--max-concurrency)
  // is time the user waited. A closed loop and the proxy send when due, so this adds nothing there.
  const queuedMs = Math.max(0, r.startMs - r.intendedStartMs);
  const firstOutput = firstOutputMs(m);
  if (c.ttftMs !== undefined && firstOutput !== undefined && firstOutput + queuedMs > c.ttftMs)
    missed.push("ttft");
  if (c.tpotMs !== undefined && m.tpotMs !== undefined && m.tpotMs > c.tpotMs) missed.push("tpot");
  if (c.itlMs !== undefined && longestGapMs(r) > c.itlMs) missed.push("itl");
  if (c.e2eMs !== undefined && (m.e2eMs ?? m.wallMs ?? 0) + queuedMs > c.e2eMs) missed.push("e2e");
  let quality: boolean | undefined;
  if (c.output) {
    quality = passesOutputCheck(r.text ?? "", c.output);
    if (!quality) missed.push("output");
  }
  return { good: missed.length === 0, missed, quality };
}
