import { clientTtftBesideServer, firstChunkCaveat } from "../server-view.js";
import { fmtMs, fmtNum, fmtPct, loadName, relChange, roundUpNice } from "./numbers.js";
import type { ReportInput, ReportLevel } from "./report-input.js";

/** How far a level's p95 wall time may rise over the lightest level's and still count as "holding". */
export const HOLD_MARGIN = 0.25;
/** Headroom added to the measured p95 before rounding it into an SLO figure. */
export const HEADROOM = 0.2;

export interface Section {
  title: string;
  paragraphs: string[];
  bullets?: string[];
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ok(levels: ReportLevel[]): ReportLevel[] {
  return levels.filter((l) => l.summary.ok > 0 && Number.isFinite(l.summary.wall_ms.p95));
}

function loadValue(l: ReportLevel): number {
  return l.summary.concurrency ?? l.summary.rate ?? 0;
}

/** The levels sorted by load, lightest first. */
function byLoad(levels: ReportLevel[]): ReportLevel[] {
  return [...ok(levels)].sort((a, b) => loadValue(a) - loadValue(b));
}

/** Why a level does not hold, or undefined when it does. */
function notHolding(l: ReportLevel, limitMs: number): string | undefined {
  const failed = l.summary.error + l.summary.incomplete;
  if (!l.valid)
    return "its result is invalid (the load asked of it was not held: see the run's validity warnings)";
  if (failed > 0) return `${failed} of its ${l.summary.n} requests failed`;
  if (l.summary.wall_ms.p95 > limitMs) return `its p95 wall time was over ${fmtMs(limitMs)}`;
  return undefined;
}

/**
 * The levels that hold, lightest first: valid, no failed request, p95 wall time within HOLD_MARGIN of
 * the lightest level's. The first level that does not hold ends the list, so a load past a failing one
 * is never promised; `stop` is that level and why.
 */
export function holdingLevels(levels: ReportLevel[]): {
  holding: ReportLevel[];
  stop?: { level: ReportLevel; why: string };
} {
  // Every level, those without a single success too: skipping one would promise the load past it.
  const sorted = [...levels].sort((a, b) => loadValue(a) - loadValue(b));
  const base = sorted[0];
  if (!base) return { holding: [] };
  const limit = base.summary.wall_ms.p95 * (1 + HOLD_MARGIN);
  const holding: ReportLevel[] = [];
  for (const l of sorted) {
    const why = notHolding(l, limit);
    if (why) return { holding, stop: { level: l, why } };
    holding.push(l);
  }
  return { holding };
}

/** The highest level that holds (see holdingLevels), if any does. */
export function holdingLevel(levels: ReportLevel[]): ReportLevel | undefined {
  return holdingLevels(levels).holding.at(-1);
}

/** A figure the run has: a run without streaming has no TTFT, TPOT or ITL (null once read back). */
function has(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** "concurrency 40" or "40 req/s", from a capacity search's mode. */
function capacityLoad(value: number, mode: string): string {
  return mode === "concurrency" ? `concurrency ${fmtNum(value)}` : `${fmtNum(value)} req/s`;
}

function meanTokens(l: ReportLevel): number {
  return Math.round(l.summary.output_tokens.mean);
}

export function sloStatement(r: ReportInput): Section {
  const { holding, stop } = holdingLevels(r.levels);
  const hold = holding.at(-1);
  const sorted = byLoad(r.levels);
  if (!sorted[0])
    return {
      title: "SLO statement",
      paragraphs: ["No level finished a request successfully, so no SLO can be stated from this run."],
    };
  if (!hold) {
    const lightest = loadName((stop?.level ?? sorted[0]).summary.scenario);
    return {
      title: "SLO statement",
      paragraphs: [
        `**No SLO can be stated from this run: even the lightest load tried, ${lightest}, did not hold.**`,
        `At ${lightest}, ${stop?.why ?? "the level did not hold"}. Fix that (the per-level table below has the causes) or measure a lighter load, then run again.`,
      ],
    };
  }
  const s = hold.summary;
  const x = roundUpNice(s.wall_ms.p95 * (1 + HEADROOM));
  const bound =
    s.concurrency !== undefined ? `at concurrency <= ${s.concurrency}` : `at <= ${fmtNum(s.rate ?? 0)} req/s`;
  const base = sorted[0].summary;
  const statement = `p95 HTTP latency for a ${meanTokens(hold)}-token generation on this endpoint should be <= ${fmtMs(x)} ${bound}.`;
  const why = [
    `At ${loadName(s.scenario)} the measured p95 wall time was ${fmtMs(s.wall_ms.p95)} (p50 ${fmtMs(s.wall_ms.p50)}) over ${s.n} requests${has(s.ttft_ms.p95) ? `, with p95 TTFT ${fmtMs(s.ttft_ms.p95)}${has(s.tpot_ms.p95) ? ` and p95 TPOT ${fmtMs(s.tpot_ms.p95)}` : ""}` : ""}; ${fmtMs(x)} adds ${fmtPct(HEADROOM)} headroom, rounded up.`,
    `${cap(loadName(s.scenario))} is the highest load tried up to which every level stayed within ${fmtPct(HOLD_MARGIN)} of the lightest level's p95 (${fmtMs(base.wall_ms.p95)} at ${loadName(base.scenario)}), with no failed requests and a valid result.`,
  ];
  if (stop) {
    const p95 = stop.level.summary.wall_ms.p95;
    const reached = has(p95)
      ? ` (p95 ${fmtMs(p95)}, ${relChange(base.wall_ms.p95, p95)} over the lightest level)`
      : "";
    why.push(
      `The next level, ${loadName(stop.level.summary.scenario)}, did not hold: ${stop.why}${reached}.`,
    );
  }
  if (r.capacity && r.capacity.capacity !== null) {
    why.push(
      `The capacity search found the SLO objectives held up to ${capacityLoad(r.capacity.capacity, r.capacity.mode)}.`,
    );
  }
  return { title: "SLO statement", paragraphs: [`**${statement}**`, ...why] };
}

export function ttftVersusHttp(r: ReportInput): Section {
  // Description, not a promise: the lightest level serves when none holds.
  const hold = holdingLevel(r.levels) ?? byLoad(r.levels)[0];
  if (!hold) return { title: "TTFT vs HTTP latency", paragraphs: ["No successful requests to compare."] };
  const s = hold.summary;
  const streamed = has(s.ttft_ms.p50);
  const share = s.ttft_ms.p50 / s.wall_ms.p50;
  const paragraphs = [
    streamed
      ? `At ${loadName(s.scenario)}, the first token arrived after ${fmtMs(s.ttft_ms.p50)} (p50) of a ${fmtMs(s.wall_ms.p50)} HTTP request: streaming shows output ${fmtMs(s.wall_ms.p50 - s.ttft_ms.p50)} (${fmtPct(1 - share)}) sooner than a client that waits for the whole body.`
      : `This run did not stream, so it has no TTFT: at ${loadName(s.scenario)} a client saw nothing of the answer until the whole body had come, ${fmtMs(s.wall_ms.p50)} (p50) after the request.`,
  ];
  const b = r.baseline;
  if (b && b.tiny_wall_ms.count > 0 && b.plain_wall_ms.count > 0) {
    const fixed = b.tiny_wall_ms.p50;
    paragraphs.push(
      `Plain HTTP, one request at a time: a full non-streaming answer took ${fmtMs(b.plain_wall_ms.p50)} (p50); a one-token answer ${fmtMs(fixed)}, the fixed cost of HTTP, queueing and prefill. That is ${fmtPct(fixed / b.plain_wall_ms.p50)} of the full answer; the rest is decoding.`,
    );
    if (has(s.tpot_ms.p50)) {
      paragraphs.push(
        `Rule of thumb for this endpoint: latency ≈ ${fmtMs(fixed)} + ${fmtMs(s.tpot_ms.p50)} per output token after the first at ${loadName(s.scenario)} (${meanTokens(hold)} tokens: ${fmtMs(fixed + s.tpot_ms.p50 * Math.max(0, meanTokens(hold) - 1))} predicted, ${fmtMs(s.wall_ms.p50)} measured).`,
      );
    }
  } else if (streamed && has(s.tpot_ms.p50)) {
    paragraphs.push(
      `Rule of thumb for this endpoint: latency ≈ ${fmtMs(s.ttft_ms.p50)} + ${fmtMs(s.tpot_ms.p50)} per output token after the first at ${loadName(s.scenario)}.`,
    );
  }
  // The gap needs the client's TTFT too: a run without streaming has none.
  const withServer = r.levels.filter(
    (l) => l.server?.ttft_mean_ms !== undefined && has(clientTtftBesideServer(l)),
  );
  if (withServer.length > 0) {
    paragraphs.push(
      `Network, HTTP and client overhead (client mean TTFT minus the server's own mean TTFT, from ${withServer[0]?.server?.names.ttft ?? "its metrics"}${withServer.every((l) => l.server?.client_ttft_mean_ms !== undefined) ? ", over the same requests, warm-up and cool-down included" : ""}): ${withServer
        .map((l) => {
          const client = clientTtftBesideServer(l);
          const gap = client - (l.server?.ttft_mean_ms ?? 0);
          return `${loadName(l.summary.scenario)} ${fmtMs(gap)} (${fmtPct(gap / client)} of TTFT)${firstChunkCaveat(l.server)}`;
        })
        .join("; ")}.`,
    );
  }
  return { title: "TTFT vs HTTP latency", paragraphs };
}

export function concurrencyEffect(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const first = sorted[0];
  const paragraphs: string[] = [];
  if (first && sorted.length > 1) {
    for (const l of sorted.slice(1)) {
      paragraphs.push(
        `${loadName(first.summary.scenario)} -> ${loadName(l.summary.scenario)}: p50 wall ${fmtMs(first.summary.wall_ms.p50)} -> ${fmtMs(l.summary.wall_ms.p50)} (${relChange(first.summary.wall_ms.p50, l.summary.wall_ms.p50)}), ${has(first.summary.ttft_ms.p95) && has(l.summary.ttft_ms.p95) ? `p95 TTFT ${fmtMs(first.summary.ttft_ms.p95)} -> ${fmtMs(l.summary.ttft_ms.p95)} (${relChange(first.summary.ttft_ms.p95, l.summary.ttft_ms.p95)}), ` : ""}throughput ${fmtNum(first.summary.output_token_throughput, 1)} -> ${fmtNum(l.summary.output_token_throughput, 1)} tokens/s.`,
      );
    }
  } else {
    paragraphs.push(
      "Only one load level ran; run several (e.g. --concurrency 1,2,4,8) to see how load changes latency.",
    );
  }
  return { title: "How load changes wall time", paragraphs };
}

/** 4-6 metrics that tell network trouble from runtime trouble from overload, with this run's readings. */
export function whatToWatch(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const top = sorted[sorted.length - 1];
  const hold = holdingLevel(r.levels) ?? sorted[0];
  const server = [...sorted].reverse().find((l) => l.server)?.server;
  const bullets: string[] = [];
  if (top && hold) {
    // The holding level and the heaviest one, once each when they are the same level.
    const readings = (pick: (l: ReportLevel) => number) =>
      [...new Set([hold, top])].map((l) => `${fmtMs(pick(l))} at ${loadName(l.summary.scenario)}`).join(", ");
    bullets.push(
      has(hold.summary.ttft_ms.p95)
        ? `Client TTFT p95 (streamslo, or the proxy's streamslo_ttft_seconds): the user-facing SLI. ${readings((l) => l.summary.ttft_ms.p95)}.`
        : `Client E2E p95 (streamslo, or the proxy's streamslo_e2e_seconds): the user-facing SLI of answers that are not streamed. ${readings((l) => l.summary.wall_ms.p95)}.`,
    );
  }
  if (server) {
    if (server.names.waiting) {
      bullets.push(
        `${server.names.waiting}: requests queued in the server. Queueing is overload, not network; it peaked at ${fmtNum(server.waiting_peak ?? 0, 0)} at ${loadName(top?.summary.scenario ?? "")}.`,
      );
    }
    if (server.names.kv_usage) {
      bullets.push(
        `${server.names.kv_usage}: KV-cache pressure; near 1.0 the server stops admitting or preempts. Peak ${fmtPct(server.kv_usage_peak ?? 0)} in this run.`,
      );
    }
    if (server.names.ttft) {
      bullets.push(
        `${server.names.ttft} against client TTFT: when the client's rises and the server's does not, look at the network or proxies in between, not the model runtime.`,
      );
    }
  } else {
    bullets.push(
      "The server's own queue length and TTFT histogram (vllm:num_requests_waiting, vllm:time_to_first_token_seconds or your server's equivalents): none were scraped in this run; pass --server-metrics so the report can split network from runtime.",
    );
  }
  if (top && has(top.summary.itl_token_ms.p99)) {
    bullets.push(
      `Inter-token latency p99 and jitter (streamslo itl, jitter): decode stalls that TTFT hides. p99 ITL per token ${fmtMs(top.summary.itl_token_ms.p99)}, median jitter ${fmtMs(top.summary.jitter_ms.p50)} at ${loadName(top.summary.scenario)}.`,
    );
  }
  bullets.push(
    "node_netstat_Tcp_RetransSegs and node_network_receive_drop_total (node exporter): rising retransmits with a flat server TTFT point at the network.",
  );
  return { title: "What to watch", paragraphs: [], bullets: bullets.slice(0, 6) };
}

export function hypotheses(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const first = sorted[0]?.summary;
  const last = sorted[sorted.length - 1]?.summary;
  const bullets: string[] = [];
  if (first && last && first !== last) {
    const ttftGrowth = last.ttft_ms.p95 / first.ttft_ms.p95;
    const tpotGrowth = last.tpot_ms.p50 / first.tpot_ms.p50;
    // Without streaming (or with one-token answers) there is no TTFT or TPOT growth to compare.
    const comparable = has(ttftGrowth) && has(tpotGrowth);
    if (comparable && ttftGrowth > 2 * tpotGrowth) {
      bullets.push(
        `Admission queueing dominates at high load: p95 TTFT grew ${fmtNum(ttftGrowth, 1)}x from ${loadName(first.scenario)} to ${loadName(last.scenario)} while p50 TPOT grew only ${fmtNum(tpotGrowth, 1)}x. Test: raise the server's batch size (max_num_seqs) or add a replica and re-run ${loadName(last.scenario)}.`,
      );
    } else if (comparable) {
      bullets.push(
        `Decode batching is a main cost of load: p50 TPOT grew ${fmtNum(tpotGrowth, 1)}x from ${loadName(first.scenario)} to ${loadName(last.scenario)}, and p95 TTFT ${fmtNum(ttftGrowth, 1)}x, not twice as much, so admission queueing does not dominate. Test: compare with a smaller batch limit, or a faster GPU, at ${loadName(last.scenario)}.`,
      );
    }
    const failed = last.error + last.incomplete;
    if (failed > 0) {
      bullets.push(
        `Failures appear under load: ${failed} of ${last.n} requests failed at ${loadName(last.scenario)} (${Object.entries(
          last.errors_by_code,
        )
          .map(([c, n]) => `${c} x${n}`)
          .join(
            ", ",
          )}). Test: repeat with --max-error-rate and the server's logs side by side to see whether it sheds load or breaks.`,
      );
    }
  }
  const jitter = last?.jitter_ms.p95;
  // Jitter is the spread of the gaps between chunks, so it is set against the typical such gap (not
  // TPOT, which is per token and smaller whenever chunks carry several).
  const gap = last?.itl_chunk_ms.p50;
  if (last && has(jitter) && has(gap)) {
    bullets.push(
      `Token pacing is ${jitter > gap ? "uneven" : "steady"}: p95 per-request jitter is ${fmtMs(jitter)} against a p50 gap between chunks of ${fmtMs(gap)} at ${loadName(last.scenario)}. Test: an SLO with a fluidity objective (fluidity avg >= 0.9) would show whether readers notice.`,
    );
  }
  if (bullets.length === 0) {
    const why =
      first === last
        ? "One load level gives nothing to compare: run several to see what grows with load."
        : !has(first?.ttft_ms.p95)
          ? "This run did not stream, so it cannot tell admission queueing from decoding: run it streamed to see which grows with load."
          : "With one-token answers there is no TPOT to compare with TTFT: ask for longer answers to see which grows with load.";
    return { title: "Hypotheses for future work", paragraphs: [why] };
  }
  return { title: "Hypotheses for future work", paragraphs: [], bullets: bullets.slice(0, 3) };
}

export function sreBullets(r: ReportInput): Section {
  const { holding, stop } = holdingLevels(r.levels);
  const hold = holding.at(-1);
  const sorted = byLoad(r.levels);
  const top = sorted[sorted.length - 1]?.summary;
  if (!hold || !top)
    return {
      title: "For the SRE",
      paragraphs: [
        top
          ? "No level held (see the SLO statement): nothing to set alerts from until a load that holds is measured."
          : "No successful requests: nothing to set alerts from.",
      ],
      bullets: [],
    };
  const s = hold.summary;
  // Without streaming the alert is on what the user waits for: the whole answer.
  const [sli, measured] = has(s.ttft_ms.p95) ? ["TTFT", s.ttft_ms.p95] : ["E2E", s.wall_ms.p95];
  const alertAt = roundUpNice(measured * (1 + HEADROOM));
  const bound =
    s.concurrency !== undefined
      ? `${s.concurrency} concurrent stream${s.concurrency === 1 ? "" : "s"}`
      : `${fmtNum(s.rate ?? 0)} req/s`;
  const failedShare = (top.error + top.incomplete) / Math.max(1, top.n);
  const next = stop?.level.summary;
  const bullets = [
    `Alert on p95 ${sli} above ${fmtMs(alertAt)} for 5 minutes: ${fmtPct(HEADROOM)} over the ${fmtMs(measured)} measured at ${loadName(s.scenario)}.`,
    next
      ? `Scale out beyond ${bound} per replica: at the next load tried, ${loadName(next.scenario)}, ${stop?.why}${has(next.wall_ms.p95) ? ` (p95 wall ${fmtMs(next.wall_ms.p95)}, ${relChange(s.wall_ms.p95, next.wall_ms.p95)})` : ""}.`
      : `Plan for up to ${bound} per replica: the highest load this run tried, so the limit may lie higher; run heavier levels to find it.`,
    `Budget errors from the measured baseline: ${top.error + top.incomplete} of ${top.n} requests (${fmtPct(failedShare, 1)}) failed at the highest load and ${s.error + s.incomplete} of ${s.n} at ${loadName(s.scenario)}; goodput there was ${fmtPct(s.goodput.share, 1)}.`,
  ];
  return { title: "For the SRE", paragraphs: [], bullets };
}

export function notes(r: ReportInput): Section[] {
  return [
    sloStatement(r),
    ttftVersusHttp(r),
    concurrencyEffect(r),
    whatToWatch(r),
    hypotheses(r),
    sreBullets(r),
  ];
}
