import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestRecord } from "../../src/core/record.js";
import { analyzeBudget, type BudgetAnalysis } from "../../src/core/slo/budget-analysis.js";
import { budgetFromSeries } from "../../src/core/slo/budget-from-series.js";
import { budgetCharts, budgetText, humanDuration, relTime } from "../../src/core/slo/budget-text.js";
import {
  budgetConsumed,
  burnRateThreshold,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  timeToExhaustionMs,
  WORKBOOK_WINDOWS,
} from "../../src/core/slo/burn-rate.js";
import type { ProductionSlo } from "../../src/core/slo/production-spec.js";
import {
  classifyRecord,
  recordEvents,
  type SliEvent,
  SliEventCollector,
} from "../../src/core/slo/sli-events.js";

const PERIOD_30D = 30 * DAY_MS;
const S = 1000;

describe("burn-rate arithmetic (SRE Workbook, Alerting on SLOs)", () => {
  it("reproduces the workbook's worked figures", () => {
    // 14.4 for 1 hour spends 2% of a 30-day budget; 6 for 6 hours spends 5%.
    assert.ok(Math.abs(budgetConsumed(14.4, HOUR_MS, PERIOD_30D) - 0.02) < 1e-12);
    assert.ok(Math.abs(budgetConsumed(6, 6 * HOUR_MS, PERIOD_30D) - 0.05) < 1e-12);
    // Burning at exactly 1 spends the whole budget in exactly the period.
    assert.equal(timeToExhaustionMs(1, 1, PERIOD_30D), PERIOD_30D);
    assert.equal(timeToExhaustionMs(1, 0, PERIOD_30D), Number.POSITIVE_INFINITY);
    const t30 = WORKBOOK_WINDOWS.map((w) => burnRateThreshold(w, PERIOD_30D));
    assert.deepEqual(t30, [14.4, 6, 3, 1]);
    const t28 = WORKBOOK_WINDOWS.map((w) => burnRateThreshold(w, 28 * DAY_MS));
    const want28 = [13.44, 5.6, 2.8, 0.9333];
    t28.forEach((t, i) => {
      assert.ok(Math.abs(t - (want28[i] as number)) < 1e-4, `${t} vs ${want28[i]}`);
    });
  });
});

function record(over: Partial<RequestRecord> = {}): RequestRecord {
  // ttft 200 ms, chunks at 200/250/400 ms (longest gap 150), 4 tokens: tpot = (400 - 200) / 3.
  return {
    id: "r",
    scenario: "c=1",
    phase: "measure",
    intendedStartMs: 1000,
    startMs: 1000,
    firstContentMs: 1200,
    chunkTimesMs: [1200, 1250, 1400],
    chunkTokens: [1, 1, 2],
    endMs: 1410,
    outputTokens: 4,
    tokenSource: "usage",
    outcome: "ok",
    ...over,
  };
}

const slo = (over: Partial<ProductionSlo>): ProductionSlo => ({
  name: "s",
  sli: "availability",
  objective: 0.999,
  ...over,
});

describe("SLI events from records", () => {
  const error = record({ outcome: "error", error: { code: "http_503", message: "busy" }, chunkTimesMs: [] });
  const dropped = record({ outcome: "incomplete", error: { code: "stream_reset", message: "reset" } });

  it("availability: errors are bad, drops and successes good", () => {
    const a = slo({ sli: "availability" });
    assert.equal(classifyRecord(record(), a), "good");
    assert.equal(classifyRecord(error, a), "bad");
    assert.equal(classifyRecord(dropped, a), "good");
  });

  it("a wrong request (4xx but 429) counts in no SLI; a 429 is the service refusing load", () => {
    const wrong = record({ outcome: "error", error: { code: "http_400", message: "bad" }, chunkTimesMs: [] });
    const refused = record({
      outcome: "error",
      error: { code: "http_429", message: "busy" },
      chunkTimesMs: [],
    });
    for (const sli of ["availability", "drops", "goodput"] as const) {
      assert.equal(classifyRecord(wrong, slo({ sli })), "none", sli);
    }
    assert.equal(classifyRecord(refused, slo({ sli: "availability" })), "bad");
  });

  it("drops: broken streams are bad, errors not counted", () => {
    const d = slo({ sli: "drops" });
    assert.equal(classifyRecord(record(), d), "good");
    assert.equal(classifyRecord(dropped, d), "bad");
    assert.equal(classifyRecord(error, d), "none");
  });

  it("latency: ok requests only, bad above the threshold (equal is good)", () => {
    const lat = (metric: ProductionSlo["metric"], thresholdS: number) =>
      slo({ sli: "latency", metric, thresholdS });
    assert.equal(classifyRecord(record(), lat("ttft", 0.2)), "good");
    assert.equal(classifyRecord(record(), lat("ttft", 0.199)), "bad");
    assert.equal(classifyRecord(record(), lat("itl", 0.15)), "good");
    assert.equal(classifyRecord(record(), lat("itl", 0.1)), "bad");
    assert.equal(classifyRecord(record(), lat("tpot", 0.07)), "good");
    assert.equal(classifyRecord(record(), lat("tpot", 0.06)), "bad");
    // E2E to the end of the body (1410 ms), as the proxy's histogram times it, not to the last chunk
    assert.equal(classifyRecord(record(), lat("e2e", 0.41)), "good");
    assert.equal(classifyRecord(record(), lat("e2e", 0.4)), "bad");
    assert.equal(classifyRecord(error, lat("ttft", 0.2)), "none");
    assert.equal(classifyRecord(dropped, lat("ttft", 0.001)), "none");
    // One token has no TPOT: no observation.
    assert.equal(classifyRecord(record({ outputTokens: 1 }), lat("tpot", 0.01)), "none");
    // An answer sent whole has no TTFT in the proxy's histogram, so none here either; E2E counts it.
    const whole = record({ firstContentMs: undefined, chunkTimesMs: [1400], chunkTokens: [4] });
    assert.equal(classifyRecord(whole, lat("ttft", 0.001)), "none");
    assert.equal(classifyRecord(whole, lat("e2e", 0.3)), "bad");
  });

  it("goodput: the record's verdict, else the outcome", () => {
    const g = slo({ sli: "goodput" });
    assert.equal(classifyRecord(record({ slo: { good: false, missed: ["ttft"] } }), g), "bad");
    assert.equal(classifyRecord(record({ slo: { good: true, missed: [] } }), g), "good");
    assert.equal(classifyRecord(record(), g), "good");
    assert.equal(classifyRecord(dropped, g), "bad");
  });

  it("ratio SLIs cannot be computed offline; only measured, uninterrupted requests count", () => {
    assert.equal(classifyRecord(record(), slo({ sli: "ratio", good: "a", total: "b" })), undefined);
    assert.equal(classifyRecord(record({ phase: "warmup" }), slo({})), "none");
    assert.equal(classifyRecord(record({ phase: "cooldown" }), slo({})), "none");
    const aborted = record({ outcome: "error", error: { code: "aborted", message: "interrupted" } });
    assert.equal(classifyRecord(aborted, slo({})), "none");
  });

  it("the collector keeps each SLO's events in time order, stamped at the stream's end", () => {
    const c = new SliEventCollector([slo({ name: "avail" }), slo({ name: "own", sli: "ratio" })]);
    c.add(record({ endMs: 5000 }));
    c.add({ ...error, endMs: 3000 });
    c.add(record({ phase: "warmup", endMs: 100 }));
    assert.deepEqual(c.events("avail"), [
      { timeMs: 3000, good: false, count: 1 },
      { timeMs: 5000, good: true, count: 1 },
    ]);
    assert.equal(c.events("own"), undefined);
  });

  it("goodput is judged by the SLO file's per-request criteria when given, as the proxy judges it", () => {
    const goodput = slo({ name: "goodput", sli: "goodput", objective: 0.95 });
    // The run was benched without criteria (or with others): its own verdict said good.
    const slow = record({ slo: { good: true, missed: [] } }); // TTFT 200 ms
    assert.equal(classifyRecord(slow, goodput), "good");
    assert.equal(classifyRecord(slow, goodput, { ttftMs: 150 }), "bad");
    assert.equal(classifyRecord(slow, goodput, { ttftMs: 300 }), "good");
    assert.equal(classifyRecord(slow, goodput, {}), "good", "no criteria: an ok answer is good");
    assert.equal(classifyRecord(error, goodput, { ttftMs: 300 }), "bad");
    // An output check needs the text, which this run did not keep: left out, not failed.
    assert.equal(classifyRecord(slow, goodput, { ttftMs: 300, output: { contains: "x" } }), "good");
    const c = new SliEventCollector([goodput], { ttftMs: 150 });
    c.add(slow);
    assert.deepEqual(c.events("goodput"), [{ timeMs: 1410, good: false, count: 1 }]);
  });

  it("an ITL SLI counts every gap between chunks, as the rules' gap histogram does", () => {
    // gaps of 50 and 150 ms: one good and one bad event at 100 ms; a request-level verdict would be bad
    const itl = slo({ name: "itl", sli: "latency", metric: "itl", thresholdS: 0.1, objective: 0.99 });
    assert.deepEqual(recordEvents(record(), itl), { good: 1, bad: 1 });
    assert.deepEqual(recordEvents(record({ chunkTimesMs: [1200, 1210, 1220, 1230] }), itl), {
      good: 3,
      bad: 0,
    });
    assert.deepEqual(recordEvents(record({ phase: "warmup" }), itl), { good: 0, bad: 0 });
    assert.deepEqual(recordEvents(record(), slo({ sli: "availability" })), { good: 1, bad: 0 });
    const c = new SliEventCollector([itl]);
    c.add(record({ endMs: 2000 }));
    c.add(record({ endMs: 3000, chunkTimesMs: [1200, 1210, 1220, 1230] }));
    const a = analyzeBudget(c.events("itl") ?? [], { objective: 0.99, periodMs: PERIOD_30D });
    assert.equal(a.totals.events, 5);
    assert.equal(a.totals.bad, 1);
    assert.ok(Math.abs(a.totals.errorRatio - 0.2) < 1e-12);
  });
});

/** One event per second at t = 1 s, 2 s, ..., n s; `isBad(i)` for the i-th. */
function perSecond(n: number, isBad: (i: number) => boolean): SliEvent[] {
  return Array.from({ length: n }, (_, k) => ({ timeMs: (k + 1) * S, good: !isBad(k + 1) }));
}

const analyze = (events: SliEvent[], extra: { timeScale?: number } = {}): BudgetAnalysis =>
  analyzeBudget(events, { objective: 0.999, periodMs: PERIOD_30D, ...extra });

const alert = (a: BudgetAnalysis, longMs: number) => a.alerts.find((x) => x.window.longMs === longMs);

describe("budget analysis on synthetic streams", () => {
  it("a clean hour spends nothing and alerts nobody", () => {
    const a = analyze(perSecond(3600, () => false));
    assert.equal(a.totals.events, 3600);
    assert.equal(a.totals.bad, 0);
    assert.equal(a.totals.consumed, 0);
    assert.equal(a.totals.remaining, 1);
    assert.equal(a.totals.exhaustionMs, Number.POSITIVE_INFINITY);
    assert.deepEqual(a.firing, { page: [], ticket: [] });
    assert.deepEqual(a.windowsMs, [
      5 * MINUTE_MS,
      30 * MINUTE_MS,
      HOUR_MS,
      2 * HOUR_MS,
      6 * HOUR_MS,
      DAY_MS,
      3 * DAY_MS,
    ]);
    // About 200 points over the hour, at whole seconds: 18 s steps, 0 s to 3600 s.
    assert.equal(a.stepMs, 18 * S);
    assert.equal(a.series.length, 201);
    assert.match(budgetText([{ slo: slo({ name: "avail" }), analysis: a }]), /never at this rate/);
  });

  // A clean hour, 20 minutes at 10% errors (every 10th event, t = 3610 s .. 4800 s), a clean hour.
  const fast = perSecond(8400, (i) => i > 3600 && i <= 4800 && (i - 3600) % 10 === 0);

  it("a fast burn pages, from the instant the arithmetic says", () => {
    const a = analyze(fast);
    // 1h/5m at 14.4: the full 1h window (3600 events) needs more than 14.4 x 0.001 x 3600 = 51.84 bad,
    // so the 52nd bad event, at 3600 + 520 s; the 5m window then holds 30 bad of 300 (burn 100).
    // It stops when the 5m window keeps 4 bad of 300 (burn 13.3): when the one at 4760 s leaves, 5060 s.
    assert.deepEqual(alert(a, HOUR_MS)?.intervals, [{ startMs: 4120 * S, endMs: 5060 * S, open: false }]);
    // 6h/30m at 6: the 6h window holds only the 3600 + 10b seconds there are (capped as rate() is),
    // so b / (3600 + 10b) > 0.006 first at b = 23, at 3830 s (23/3830 = 0.0060052).
    assert.equal(alert(a, 6 * HOUR_MS)?.intervals[0]?.startMs, 3830 * S);
    assert.equal(a.firing.page[0]?.startMs, 3830 * S);
    assert.equal(relTime(4120 * S), "+1h8m40s");
    assert.equal(relTime(200 * S), "+3m20s");
  });

  it("a fast burn's budget and exhaustion, by hand", () => {
    const a = analyze(fast);
    // 120 bad of 8400 over 8400 s; one event per second means 2,592,000 events in 30 days, and
    // 0.1% of those (2592) is the budget: 120 / 2592 spent. Burn 120/8400/0.001 = 100/7.
    assert.equal(a.totals.bad, 120);
    assert.ok(Math.abs(a.totals.consumed - 120 / 2592) < 1e-12);
    assert.ok(Math.abs(a.totals.burnRate - 100 / 7) < 1e-9);
    // Remaining 2472/2592 of 30 days at 100/7: 2,472,000 s x 7/100 = 173,040 s = 2d 0h 4m.
    assert.ok(Math.abs(a.totals.exhaustionMs - 173_040 * S) < 1);
    assert.equal(humanDuration(a.totals.exhaustionMs), "2d");
    const last = a.series[a.series.length - 1];
    assert.equal(last?.tMs, 8400 * S);
    assert.ok(Math.abs((last?.remaining ?? 0) - a.totals.remaining) < 1e-12);
    // Replayed twice as slowly, the same bad events spend twice the budget.
    const slow = analyze(fast, { timeScale: 2 });
    assert.ok(Math.abs(slow.totals.consumed - (2 * 120) / 2592) < 1e-12);
    assert.equal(slow.totals.durationMs, 16_800 * S);
  });

  it("a slow burn over 3 days tickets but does not page", () => {
    // 1 in 320 bad (0.3125%, burn 3.125): just above the 1d/2h ticket threshold of 3, which alerts
    // compare with >, as the workbook's rules do (0.3% exactly would sit on the boundary).
    const events = perSecond(3 * 86_400, (i) => i % 320 === 0);
    const a = analyze(events);
    assert.deepEqual(a.firing.page, []);
    const day = alert(a, DAY_MS)?.intervals ?? [];
    // Early on both windows hold all k/t of the data, over 0.003 only just after each bad event; from the
    // 24th bad event (7680 s) on, k/t stays above it until each window is full and steady at >= 22/7200.
    const lastInterval = day[day.length - 1];
    assert.deepEqual(lastInterval, { startMs: 7680 * S, endMs: 3 * DAY_MS, open: true });
    assert.equal(day[0]?.startMs, 320 * S);
    // One flicker after each of the first 23 bad events (k/t > 0.003 while t < 333.3k), then the steady one.
    assert.equal(day.length, 24);
    assert.deepEqual(day[22], { startMs: 7360 * S, endMs: 7667 * S, open: false });
    assert.ok((alert(a, 3 * DAY_MS)?.intervals.length ?? 0) > 0);
    // 810 bad of 259,200: burn 3.125 for 3 days spends 3.125 x 3/30 = 31.25%; 68.75% lasts 6.6 days more.
    assert.equal(a.totals.bad, 810);
    assert.ok(Math.abs(a.totals.consumed - 0.3125) < 1e-12);
    assert.ok(Math.abs(a.totals.exhaustionMs - (0.6875 * PERIOD_30D) / 3.125) < 1);
    assert.equal(humanDuration(a.totals.exhaustionMs), "6d 14h");
    const text = budgetText([{ slo: slo({ name: "avail" }), analysis: a }], { period: "30d" });
    assert.match(text, /avail\s+ticket\s+1d\/2h\s+> 3x\s+\+5m20s\.\.\+5m34s, .*\+2h8m\.\.end \(24 times/);
    assert.match(text, /259200\s+810\s+0\.313%\s+3\.1\dx\s+31\.\d%\s+68\.\d%\s+6d 14h/);
  });
});

describe("budget output", () => {
  it("says why an SLO was not analysed and builds one burn-rate chart per analysed SLO", () => {
    const a = analyze(perSecond(600, (i) => i % 50 === 0));
    const results = [
      { slo: slo({ name: "avail" }), analysis: a },
      { slo: slo({ name: "own", sli: "ratio" }), note: "ratio SLI: not computable offline" },
    ];
    assert.match(budgetText(results), /own\s+99\.9%(\s+-){6}\s+ratio SLI: not computable offline/);
    const charts = budgetCharts(results);
    assert.deepEqual(
      charts.map((c) => c.id),
      ["budget-burn-down", "burn-rate-avail"],
    );
    const layers = charts[1]?.spec.layer as { data: { values: { burn: number }[] } }[] | undefined;
    const rules = layers?.[1]?.data.values;
    assert.deepEqual(
      rules?.map((r) => r.burn),
      [14.4, 6, 3, 1],
    );
  });
});

describe("budget from Prometheus series", () => {
  it("ends the burn-down at the period's figure, with the range's share spent inside it", () => {
    const hour = Array.from({ length: 61 }, (_, i) => i * MINUTE_MS);
    const a = budgetFromSeries({
      objective: 0.999,
      periodMs: PERIOD_30D,
      timesMs: hour,
      windows: [],
      events: 1000,
      bad: 10, // 1% over the hour: a burn of 10
      periodRatio: 0.005, // 0.5% over the period against a 0.1% budget: 5 budgets spent so far
    });
    assert.ok(Math.abs(a.totals.consumed - 5) < 1e-9);
    assert.ok(Math.abs(a.totals.consumed + a.totals.remaining - 1) < 1e-9);
    const inRange = (10 * 61 * MINUTE_MS) / PERIOD_30D;
    const first = a.series[0]?.consumed ?? Number.NaN;
    const last = a.series.at(-1)?.consumed ?? Number.NaN;
    assert.ok(Math.abs(first - (5 - inRange)) < 1e-9, `starts at ${first}`);
    assert.ok(last > first && last <= 5 + 1e-9, `ends at ${last}`);
  });
});
