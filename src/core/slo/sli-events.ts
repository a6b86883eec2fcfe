import { isClientFault } from "../outcome.js";
import type { RequestRecord } from "../record.js";
import { requestMetrics } from "../request-metrics.js";
import { judgeRequest } from "../request-slo.js";
import type { RequestCriteria } from "../slo-spec.js";
import type { ProductionSlo } from "./production-spec.js";

/** How one record counts for one SLI: a good event, a bad one, or not at all. */
export type SliVerdict = "good" | "bad" | "none";

/** One SLI event on the run's clock (ms since the run started), stamped when the request ended. */
export interface SliEvent {
  timeMs: number;
  good: boolean;
  /** How many events alike this entry stands for (a record's good or bad token gaps); default 1. */
  count?: number;
}

/** Ratio SLIs are the user's own PromQL over production counters: a run's records cannot answer them. */
export function computableOffline(slo: ProductionSlo): boolean {
  if (slo.sli === "ratio") return false;
  if (slo.sli === "latency") return slo.metric !== undefined && slo.thresholdS !== undefined;
  return true;
}

/** Longest gap between consecutive content chunks: the stall a reader notices. */
export function longestGapMs(rec: RequestRecord): number | undefined {
  const t = rec.chunkTimesMs;
  let longest: number | undefined;
  for (let i = 1; i < t.length; i++) {
    const gap = (t[i] as number) - (t[i - 1] as number);
    if (longest === undefined || gap > longest) longest = gap;
  }
  return longest;
}

function latencyMs(rec: RequestRecord, metric: NonNullable<ProductionSlo["metric"]>): number | undefined {
  // A request's ITL verdict is its worst gap; recordEvents counts every gap, as the rules do.
  if (metric === "itl") return longestGapMs(rec);
  const m = requestMetrics(rec);
  // TTFT as the proxy's histogram has it: streamed answers only (goodput's ttft criterion, per request,
  // judges an answer sent whole by its E2E instead).
  // E2E as the proxy's histogram times it: to the end of the body (wall), not the last content chunk.
  return metric === "ttft" ? m.ttftMs : metric === "tpot" ? m.tpotMs : (m.wallMs ?? m.e2eMs);
}

/**
 * Classifies one record for one SLO; undefined when the SLI cannot be computed from records at all
 * (ratio SLIs), so the caller can say so instead of reporting a spotless budget. Only measured
 * requests count; requests cut short by the run's own interruption say nothing about the endpoint.
 */
export function classifyRecord(
  rec: RequestRecord,
  slo: ProductionSlo,
  criteria?: RequestCriteria,
): SliVerdict | undefined {
  if (!computableOffline(slo)) return undefined;
  if (rec.phase !== "measure" || rec.error?.code === "aborted") return "none";
  // A wrong request (4xx other than 429) says nothing about the service: no SLI counts it.
  if (isClientFault(rec.error?.code)) return "none";
  switch (slo.sli) {
    case "availability":
      return rec.outcome === "error" ? "bad" : "good";
    case "drops":
      // A request that never started streaming cannot be dropped: availability counts it.
      return rec.outcome === "incomplete" ? "bad" : rec.outcome === "ok" ? "good" : "none";
    case "goodput":
      return goodputVerdict(rec, criteria) ? "good" : "bad";
    case "latency": {
      if (rec.outcome !== "ok") return "none";
      const v = latencyMs(rec, slo.metric as NonNullable<ProductionSlo["metric"]>);
      // No observation (one token has no TPOT, one chunk no gap): a histogram would record nothing either.
      if (v === undefined) return "none";
      // Histogram buckets are `le`: a value equal to the threshold is good.
      return v > (slo.thresholdS as number) * 1000 ? "bad" : "good";
    }
    default:
      return undefined;
  }
}

/**
 * Goodput as the proxy judges it: by the SLO file's per-request criteria when given, else by the
 * verdict the run recorded (its own --slo), else by its outcome. An output check needs the answer's
 * text, which a run keeps only when it had such a check itself: without it, that criterion is left out.
 */
function goodputVerdict(rec: RequestRecord, criteria?: RequestCriteria): boolean {
  if (criteria === undefined) return rec.slo?.good ?? rec.outcome === "ok";
  const judged = rec.text === undefined && criteria.output ? { ...criteria, output: undefined } : criteria;
  return judgeRequest(rec, judged).good;
}

/** Good and bad events one record adds to an SLI. */
export interface SliCounts {
  good: number;
  bad: number;
}

/**
 * The events a record adds to an SLI, counted as the production rules count them: one per request,
 * except an ITL latency SLI, whose histogram (the proxy's streamslo_itl_seconds, vLLM's
 * inter_token_latency_seconds) holds one observation per gap between content chunks. Undefined for
 * SLIs records cannot answer (ratio).
 */
export function recordEvents(
  rec: RequestRecord,
  slo: ProductionSlo,
  criteria?: RequestCriteria,
): SliCounts | undefined {
  const v = classifyRecord(rec, slo, criteria);
  if (v === undefined) return undefined;
  if (v === "none") return { good: 0, bad: 0 };
  if (slo.sli !== "latency" || slo.metric !== "itl")
    return v === "good" ? { good: 1, bad: 0 } : { good: 0, bad: 1 };
  const limitMs = (slo.thresholdS as number) * 1000;
  const t = rec.chunkTimesMs;
  let bad = 0;
  for (let i = 1; i < t.length; i++) if ((t[i] as number) - (t[i - 1] as number) > limitMs) bad++;
  return { good: t.length - 1 - bad, bad };
}

/** When a record's event happened: the stream's end, else its last chunk, else its send. */
export function eventTimeMs(rec: RequestRecord): number {
  return rec.endMs ?? rec.chunkTimesMs[rec.chunkTimesMs.length - 1] ?? rec.startMs;
}

/**
 * Reduces records, fed one at a time (e.g. from streamRecords), to each offline-computable SLO's events.
 * Memory: two numbers per counted record per SLO (three for an ITL SLI's record with good and bad gaps).
 */
export class SliEventCollector {
  private readonly streams = new Map<string, SliEvent[]>();

  /** criteria: the SLO file's per-request criteria, which goodput is judged by (as the proxy does). */
  constructor(
    readonly slos: readonly ProductionSlo[],
    private readonly criteria?: RequestCriteria,
  ) {
    for (const s of slos) if (computableOffline(s)) this.streams.set(s.name, []);
  }

  add(rec: RequestRecord): void {
    for (const s of this.slos) {
      const events = this.streams.get(s.name);
      if (!events) continue;
      const c = recordEvents(rec, s, this.criteria);
      if (!c) continue;
      const timeMs = eventTimeMs(rec);
      if (c.good > 0) events.push({ timeMs, good: true, count: c.good });
      if (c.bad > 0) events.push({ timeMs, good: false, count: c.bad });
    }
  }

  /** The SLO's events by time (records are written as they end: mostly in order); undefined if ratio. */
  events(name: string): SliEvent[] | undefined {
    const events = this.streams.get(name);
    events?.sort((a, b) => a.timeMs - b.timeMs);
    return events;
  }
}
