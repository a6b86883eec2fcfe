import { FAILED_SHARE_WARNING, failureWarnings } from "../failure-share.js";
import type { LevelSummary } from "../level-aggregate.js";
import { clientTtftBesideServer, firstChunkCaveat } from "../server-view.js";
import { cap, fmtMs, fmtNum, fmtPct, loadName, ROUNDING_MARGIN, relChange, roundUpNice } from "./numbers.js";
import type { ReportInput, ReportLevel } from "./report-input.js";
import { type CutLevel, cutLevel, joinAnd, levelsNotRun, stopCause, stoppedEarly } from "./stopped-early.js";

/** How far a level's p95 wall time may rise over the lightest level's and still count as "holding". */
export const HOLD_MARGIN = 0.25;
/** Headroom added to the measured p95 before rounding it into an SLO figure. */
export const HEADROOM = 0.2;
/**
 * How much a latency must grow from the lightest level to the heaviest before a hypothesis blames
 * it: below a quarter it is within the hold rule's own margin and the spread of a p50 or p95 over a
 * few dozen requests, so nothing can be said to have grown.
 */
export const MATERIAL_GROWTH = 1.25;

export interface Section {
  title: string;
  paragraphs: string[];
  bullets?: string[];
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

/** The level that ended the holding ones and why; `cut` when the user's stop cut it short. */
interface HoldStop {
  level: ReportLevel;
  why: string;
  cut: boolean;
}

/** Why a level does not hold, or undefined when it does. */
function notHolding(l: ReportLevel, limitMs: number, cut?: CutLevel): string | undefined {
  const failed = l.summary.error + l.summary.incomplete;
  if (l === cut?.level) return `it ${cut.why}`;
  if (!l.valid) {
    const reasons = l.invalidReasons ?? [];
    return reasons.length > 0
      ? `its result is invalid: ${reasons.join("; ")}`
      : "its result is invalid (see the run's validity warnings)";
  }
  if (failed > 0) return `${failed} of its ${l.summary.n} requests failed`;
  if (l.summary.wall_ms.p95 > limitMs) return `its p95 wall time was over ${fmtMs(limitMs)}`;
  return undefined;
}

/**
 * The levels that hold, lightest first: measured in full, valid, no failed request, p95 wall time
 * within HOLD_MARGIN of the lightest level's (`base`). The first level that does not hold ends the
 * list, so a load past a failing one is never promised; `stop` is that level and why (see HoldStop).
 */
export function holdingLevels(
  levels: ReportLevel[],
  cut?: CutLevel,
): {
  holding: ReportLevel[];
  base?: ReportLevel;
  stop?: HoldStop;
} {
  // Every level, those without a single success too: skipping one would promise the load past it.
  const sorted = [...levels].sort((a, b) => loadValue(a) - loadValue(b));
  const base = sorted[0];
  if (!base) return { holding: [] };
  const limit = base.summary.wall_ms.p95 * (1 + HOLD_MARGIN);
  const holding: ReportLevel[] = [];
  for (const l of sorted) {
    const why = notHolding(l, limit, cut);
    // A level the endpoint's failure stopped did not hold; one the user stopped was not measured.
    if (why) return { holding, base, stop: { level: l, why, cut: l === cut?.level && !cut.failed } };
    holding.push(l);
  }
  return { holding, base };
}

/** holdingLevels over a run's levels, its early stop's cut level excluded. */
function runHolding(r: ReportInput): ReturnType<typeof holdingLevels> {
  return holdingLevels(r.levels, cutLevel(r));
}

/** " (p95 wall 3.83 ms, +61% over the lightest level's 2.38 ms at concurrency 1)": the hold rule's base, named. */
function overLightest(p95: number, base: ReportLevel): string {
  const b = base.summary;
  return has(p95)
    ? ` (p95 wall ${fmtMs(p95)}, ${relChange(b.wall_ms.p95, p95)} over the lightest level's ${fmtMs(b.wall_ms.p95)} at ${loadName(b.scenario)})`
    : "";
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

/** What the early stop means for the statement (`stated`: whether there is one), when the run stopped early. */
function stopForStatement(r: ReportInput, stated: boolean): string[] {
  if (!r.stop) return [];
  const missing = levelsNotRun(r);
  const never = missing.length > 0 ? `; ${joinAnd(missing)} never ran` : "";
  // A user's stop says nothing about the heavier loads; the other stops are the endpoint failing.
  const more = r.stop.kind === "interrupted" ? ", and a heavier load may hold too" : "";
  const rests = stated ? ` The statement rests only on levels measured in full${more}.` : "";
  return [`The run was stopped early: ${stopCause(r.stop)}${never}.${rests}`];
}

function noStatement(r: ReportInput, stop: HoldStop | undefined) {
  const lightest = loadName((stop?.level ?? byLoad(r.levels)[0] ?? r.levels[0])?.summary.scenario ?? "");
  const headline = stop?.cut
    ? `**No SLO can be stated from this run: its lightest load, ${lightest}, was not measured in full.**`
    : `**No SLO can be stated from this run: even the lightest load tried, ${lightest}, did not hold.**`;
  const fix = stop?.cut
    ? "Run it again to the end."
    : "Fix that (the per-level table below has the causes) or measure a lighter load, then run again.";
  return {
    title: "SLO statement",
    paragraphs: [
      headline,
      `At ${lightest}, ${stop?.why ?? "the level did not hold"}. ${fix}`,
      ...stopForStatement(r, false),
    ],
  };
}

/** Why the first level past the holding ones is left out of the statement. */
function nextLevel(stop: HoldStop, base: ReportLevel, statedMs: number): string {
  const name = loadName(stop.level.summary.scenario);
  if (stop.cut) return `The next level, ${name}, is left out: ${stop.why}.`;
  const p95 = stop.level.summary.wall_ms.p95;
  const text = `The next level, ${name}, did not hold: ${stop.why}${overLightest(p95, base)}.`;
  // Its p95 can be under the stated figure (the headroom is for the held load): say why it still is out.
  const clean = stop.level.valid && stop.level.summary.error + stop.level.summary.incomplete === 0;
  return clean && has(p95) && p95 <= statedMs
    ? `${text} That is still under the stated ${fmtMs(statedMs)}, but latency had begun to climb with load there, so the statement stops at the load before it.`
    : text;
}

/** How the capacity search's answer sits beside the statement's bound. */
function capacityBeside(r: ReportInput, s: ReportLevel["summary"]): string[] {
  const c = r.capacity;
  if (!c || c.capacity === null) return [];
  const found = `The capacity search found the SLO objectives held up to ${capacityLoad(c.capacity, c.mode)}`;
  const bound = c.mode === "concurrency" ? s.concurrency : s.rate;
  if (bound === undefined || c.capacity <= bound) return [`${found}.`];
  return [
    `${found}, more than this statement's bound: the objectives are judged against their own thresholds, while this statement stops at the last load whose p95 stayed within ${fmtPct(HOLD_MARGIN)} of the lightest level's. Both hold; plan by the objectives, and expect latency to grow past ${loadName(s.scenario)}.`,
  ];
}

export function sloStatement(r: ReportInput): Section {
  const { holding, stop, base: lightest } = runHolding(r);
  const hold = holding.at(-1);
  if (!byLoad(r.levels)[0])
    return {
      title: "SLO statement",
      paragraphs: [
        "No level finished a request successfully, so no SLO can be stated from this run.",
        ...stopForStatement(r, false),
      ],
    };
  if (!hold || !lightest) return noStatement(r, stop);
  const s = hold.summary;
  const x = roundUpNice(s.wall_ms.p95 * (1 + HEADROOM));
  const bound =
    s.concurrency !== undefined ? `at concurrency <= ${s.concurrency}` : `at <= ${fmtNum(s.rate ?? 0)} req/s`;
  const base = lightest.summary;
  const statement = `p95 HTTP latency for a ${meanTokens(hold)}-token generation on this endpoint should be <= ${fmtMs(x)} ${bound}.`;
  const why = [
    `At ${loadName(s.scenario)} the measured p95 wall time was ${fmtMs(s.wall_ms.p95)} (p50 ${fmtMs(s.wall_ms.p50)}) over ${s.n} requests${has(s.ttft_ms.p95) ? `, with p95 TTFT ${fmtMs(s.ttft_ms.p95)}${has(s.tpot_ms.p95) ? ` and p95 TPOT ${fmtMs(s.tpot_ms.p95)}` : ""}` : ""}; ${fmtMs(x)} is that plus ${fmtPct(HEADROOM)} headroom (${fmtMs(s.wall_ms.p95 * (1 + HEADROOM))}), rounded up to two significant figures (which adds under ${fmtPct(ROUNDING_MARGIN)}).`,
    `${cap(loadName(s.scenario))} is the highest load tried up to which every level stayed within ${fmtPct(HOLD_MARGIN)} of the lightest level's p95 (${fmtMs(base.wall_ms.p95)} at ${loadName(base.scenario)}), with no failed requests and a valid result.`,
  ];
  if (stop) why.push(nextLevel(stop, lightest, x));
  why.push(...stopForStatement(r, true));
  why.push(...capacityBeside(r, s));
  return { title: "SLO statement", paragraphs: [`**${statement}**`, ...why] };
}

export function ttftVersusHttp(r: ReportInput): Section {
  // Description, not a promise: the lightest level serves when none holds.
  const hold = runHolding(r).holding.at(-1) ?? byLoad(r.levels)[0];
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

/** A level's name, marked when the run's early stop cut it short. */
function levelName(s: LevelSummary, cut: CutLevel | undefined): string {
  return `${loadName(s.scenario)}${s === cut?.level.summary ? ` (cut short: ${s.n} requests)` : ""}`;
}

/** Why only one level ran: the plan asked for one, or the run was stopped before the rest. */
function oneLevel(r: ReportInput): string {
  if (!r.stop)
    return "Only one load level ran; run several (e.g. --concurrency 1,2,4,8) to see how load changes latency.";
  const missing = levelsNotRun(r);
  const before = missing.length > 0 ? `, before ${joinAnd(missing)} could run` : "";
  return `Only one load level ran: the run was stopped early${before} (see above), so it cannot show how load changes latency.`;
}

export function concurrencyEffect(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const first = sorted[0];
  const cut = cutLevel(r);
  const paragraphs: string[] = [];
  if (first && sorted.length > 1) {
    for (const l of sorted.slice(1)) {
      paragraphs.push(
        `${levelName(first.summary, cut)} -> ${levelName(l.summary, cut)}: p50 wall ${fmtMs(first.summary.wall_ms.p50)} -> ${fmtMs(l.summary.wall_ms.p50)} (${relChange(first.summary.wall_ms.p50, l.summary.wall_ms.p50)}), ${has(first.summary.ttft_ms.p95) && has(l.summary.ttft_ms.p95) ? `p95 TTFT ${fmtMs(first.summary.ttft_ms.p95)} -> ${fmtMs(l.summary.ttft_ms.p95)} (${relChange(first.summary.ttft_ms.p95, l.summary.ttft_ms.p95)}), ` : ""}throughput ${fmtNum(first.summary.output_token_throughput, 1)} -> ${fmtNum(l.summary.output_token_throughput, 1)} tokens/s.`,
      );
    }
  } else {
    paragraphs.push(oneLevel(r));
  }
  return { title: "How load changes wall time", paragraphs };
}

/** 4-6 metrics that tell network trouble from runtime trouble from overload, with this run's readings. */
export function whatToWatch(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const top = sorted[sorted.length - 1];
  const hold = runHolding(r).holding.at(-1) ?? sorted[0];
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

/** Which of TTFT and TPOT grew with load, when the run has both; only a material growth is blamed. */
function growthHypothesis(
  first: LevelSummary,
  last: LevelSummary,
  cut: CutLevel | undefined,
): string | undefined {
  const ttftGrowth = last.ttft_ms.p95 / first.ttft_ms.p95;
  const tpotGrowth = last.tpot_ms.p50 / first.tpot_ms.p50;
  // Without streaming (or with one-token answers) there is no TTFT or TPOT growth to compare.
  if (!has(ttftGrowth) || !has(tpotGrowth)) return undefined;
  const from = `from ${levelName(first, cut)} to ${levelName(last, cut)}`;
  const ttft = fmtNum(ttftGrowth, 1);
  const tpot = fmtNum(tpotGrowth, 1);
  const tpotGrew = tpotGrowth >= MATERIAL_GROWTH;
  if (ttftGrowth >= MATERIAL_GROWTH && (!tpotGrew || ttftGrowth > 2 * tpotGrowth)) {
    return `Admission queueing dominates at high load: p95 TTFT grew ${ttft}x ${from} while p50 TPOT grew only ${tpot}x. Test: raise the server's batch size (max_num_seqs) or add a replica and re-run ${loadName(last.scenario)}.`;
  }
  if (tpotGrew) {
    return `Decode batching is a main cost of load: p50 TPOT grew ${tpot}x ${from}, and p95 TTFT ${ttft}x, not twice as much, so admission queueing does not dominate. Test: compare with a smaller batch limit, or a faster GPU, at ${loadName(last.scenario)}.`;
  }
  return `Load has not yet slowed the endpoint: ${from}, p50 TPOT changed ${tpot}x and p95 TTFT ${ttft}x, both under ${fmtNum(MATERIAL_GROWTH)}x. Test: run heavier levels to find where queueing or decoding starts to grow.`;
}

function failedOf(s: LevelSummary): number {
  return s.error + s.incomplete;
}

/**
 * Failures at the heaviest level: "under load" only when the lightest level failed at most half as
 * often; failures a light load already has are not load's doing.
 */
function failureHypothesis(sorted: LevelSummary[]): string | undefined {
  const first = sorted[0];
  const last = sorted.at(-1);
  if (!first || !last || failedOf(last) === 0) return undefined;
  const share = (s: LevelSummary) => failedOf(s) / Math.max(1, s.n);
  const codes = Object.entries(last.errors_by_code)
    .map(([c, n]) => `${c} x${n}`)
    .join(", ");
  const at = (s: LevelSummary) => `${failedOf(s)} of ${s.n} at ${loadName(s.scenario)}`;
  if (share(first) <= share(last) / 2) {
    return `Failures appear under load: ${failedOf(last)} of ${last.n} requests failed at ${loadName(last.scenario)} (${codes}), against ${at(first)}. Test: repeat with --max-error-rate and the server's logs side by side to see whether it sheds load or breaks.`;
  }
  return `Failures occur at light load too, not only under load: ${sorted.map(at).join(", ")} failed (${codes} at ${loadName(last.scenario)}). Test: look for their cause in the server's logs at ${loadName(first.scenario)}; more load is not what triggers them.`;
}

export function hypotheses(r: ReportInput): Section {
  const sorted = byLoad(r.levels);
  const first = sorted[0]?.summary;
  const last = sorted[sorted.length - 1]?.summary;
  const bullets: string[] = [];
  if (first && last && first !== last) {
    const growth = growthHypothesis(first, last, cutLevel(r));
    if (growth) bullets.push(growth);
    const failures = failureHypothesis(sorted.map((l) => l.summary));
    if (failures) bullets.push(failures);
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

/** Where to scale out: the next level did not hold; or the limit was not found (last level held, or was cut). */
function scaleBullet(bound: string, stop: HoldStop | undefined, base: ReportLevel): string {
  if (!stop)
    return `Plan for up to ${bound} per replica: the highest load this run tried, so the limit may lie higher; run heavier levels to find it.`;
  const next = stop.level.summary;
  if (stop.cut)
    return `Plan for up to ${bound} per replica: the next load, ${loadName(next.scenario)}, is left out (${stop.why}); the limit may lie higher: run it again in full to find it.`;
  return `Scale out beyond ${bound} per replica: at the next load tried, ${loadName(next.scenario)}, ${stop.why}${overLightest(next.wall_ms.p95, base)}.`;
}

export function sreBullets(r: ReportInput): Section {
  const { holding, stop, base } = runHolding(r);
  const hold = holding.at(-1);
  const sorted = byLoad(r.levels);
  const top = sorted[sorted.length - 1]?.summary;
  if (!hold || !top || !base)
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
  const bullets = [
    `Alert on p95 ${sli} above ${fmtMs(alertAt)} for 5 minutes: ${fmtPct(HEADROOM)} over the ${fmtMs(measured)} measured at ${loadName(s.scenario)}.`,
    scaleBullet(bound, stop, base),
    `Budget errors from the measured baseline: ${top.error + top.incomplete} of ${top.n} requests (${fmtPct(failedShare, 1)}) failed at the highest load and ${s.error + s.incomplete} of ${s.n} at ${loadName(s.scenario)}; goodput there was ${fmtPct(s.goodput.share, 1)}.`,
  ];
  return { title: "For the SRE", paragraphs: [], bullets };
}

/** Leads the notes when the run stopped early, so no figure below is read as a complete run. */
function stoppedSection(r: ReportInput): Section[] {
  const text = stoppedEarly(r);
  return text ? [{ title: "Run stopped early", paragraphs: [text] }] : [];
}

/** Leads the notes when some level's failed share passed the warning threshold (or nothing succeeded). */
function failedSection(r: ReportInput): Section[] {
  const warnings = failureWarnings(r.levels.map((l) => l.summary));
  return warnings.length > 0
    ? [
        {
          title: "Warning: failed requests",
          paragraphs: [
            `More than ${fmtPct(FAILED_SHARE_WARNING, 0)} of a level's measured requests failed; the latency figures below describe only the requests that succeeded.`,
          ],
          bullets: warnings,
        },
      ]
    : [];
}

/** What the client noted about its own measurement, per level: a long stall, a machine short of CPU. */
function measurementSection(r: ReportInput): Section[] {
  const bullets = r.levels.flatMap((l) =>
    (l.measurementNotes ?? []).map((n) => `${cap(loadName(l.summary.scenario))}: ${n}.`),
  );
  return bullets.length > 0
    ? [
        {
          title: "How the measurement went",
          paragraphs: ["The client watched itself while it measured; weigh the figures below with this:"],
          bullets,
        },
      ]
    : [];
}

export function notes(r: ReportInput): Section[] {
  return [
    ...stoppedSection(r),
    ...failedSection(r),
    ...measurementSection(r),
    sloStatement(r),
    ttftVersusHttp(r),
    concurrencyEffect(r),
    whatToWatch(r),
    hypotheses(r),
    sreBullets(r),
  ];
}
