import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normal } from "../../src/core/arrivals.js";
import { LevelAggregate } from "../../src/core/level-aggregate.js";
import type { RequestRecord } from "../../src/core/record.js";
import { createRng, deriveSeed, type Rng } from "../../src/core/rng.js";
import {
  compareRuns,
  type RunInput,
  relativeChange,
  samplesFromRecords,
} from "../../src/core/run-compare.js";
import { compareHeadline, compareMarkdown, compareText } from "../../src/output/compare-text.js";

const TOKENS = 100;

/** A successful streamed request: TOKENS chunks of one token, the first after `ttft`, then every `tpot`. */
function request(scenario: string, i: number, ttft: number, tpot: number, over: Partial<RequestRecord> = {}) {
  const startMs = 2000 * i;
  const first = startMs + ttft;
  const r: RequestRecord = {
    id: `${scenario}-${i}`,
    scenario,
    phase: "measure",
    intendedStartMs: startMs,
    startMs,
    firstContentMs: first,
    chunkTimesMs: Array.from({ length: TOKENS }, (_, k) => first + k * tpot),
    chunkTokens: Array.from({ length: TOKENS }, () => 1),
    endMs: first + (TOKENS - 1) * tpot + 1,
    outputTokens: TOKENS,
    tokenSource: "usage",
    outcome: "ok",
    ...over,
  };
  return r;
}

/** n requests with log-normal TTFT (median 100 ms x ttftScale) and TPOT (median 20 ms x tpotScale). */
function level(scenario: string, n: number, rng: Rng, ttftScale = 1, tpotScale = 1): RequestRecord[] {
  return Array.from({ length: n }, (_, i) =>
    request(
      scenario,
      i,
      100 * ttftScale * Math.exp(0.15 * normal(rng)),
      20 * tpotScale * Math.exp(0.05 * normal(rng)),
    ),
  );
}

function runInput(records: RequestRecord[]): RunInput {
  const aggs = new Map<string, LevelAggregate>();
  for (const r of records) {
    if (r.phase !== "measure" || r.error?.code === "aborted") continue;
    let agg = aggs.get(r.scenario);
    if (!agg) {
      agg = new LevelAggregate({ scenario: r.scenario, mode: "stream" });
      aggs.set(r.scenario, agg);
    }
    agg.add(r);
  }
  return { samples: samplesFromRecords(records), levels: [...aggs.values()].map((a) => a.summary()) };
}

/** Independent seeded streams, one per level and run. */
const stream = (i: number) => createRng(deriveSeed(2024, i));

// Run A and run B share c=2, c=4 and c=8; c=1 is only in A, c=16 only in B.
//   c=2: B's TTFT 30% lower (improvement); c=4: B's TTFT 20% higher (regression);
//   c=8: the same distributions, independent draws. TPOT never changes, and E2E (about 2.1 s, mostly
//   decode) moves with TTFT by less than the 5% minimum.
const runA = runInput([
  ...level("c=1", 50, stream(1)),
  ...level("c=2", 50, stream(2)),
  ...level("c=4", 50, stream(3)),
  ...level("c=8", 50, stream(4)),
]);
const runB = runInput([
  ...level("c=2", 50, stream(12), 0.7),
  ...level("c=4", 50, stream(13), 1.2),
  ...level("c=8", 50, stream(14)),
  ...level("c=16", 50, stream(15)),
]);
const result = compareRuns(runA, runB);
const levelOf = (scenario: string) => {
  const l = result.levels.find((x) => x.scenario === scenario);
  assert.ok(l, `no level ${scenario}`);
  return l;
};
const metricOf = (scenario: string, metric: string) => {
  const m = levelOf(scenario).metrics.find((x) => x.metric === metric);
  assert.ok(m, `no ${metric} at ${scenario}`);
  return m;
};

describe("samplesFromRecords", () => {
  it("keeps measured successful requests only, grouped by level, with metrics from raw timestamps", () => {
    const ok = request("c=1", 0, 100, 20);
    const samples = samplesFromRecords([
      ok,
      request("c=1", 1, 900, 20, { phase: "warmup" }),
      request("c=1", 2, 900, 20, { phase: "cooldown" }),
      request("c=1", 3, 900, 20, { outcome: "error", error: { code: "http_503", message: "busy" } }),
      request("c=1", 4, 900, 20, { outcome: "incomplete", error: { code: "stream_reset", message: "x" } }),
      request("c=1", 5, 900, 20, { outcome: "ok", error: { code: "aborted", message: "interrupted" } }),
      request("c=2", 6, 50, 10),
    ]);
    assert.deepEqual([...samples.keys()], ["c=1", "c=2"]);
    assert.deepEqual(samples.get("c=1"), { ttft: [100], tpot: [20], e2e: [100 + 99 * 20] });
    assert.deepEqual(samples.get("c=2"), { ttft: [50], tpot: [10], e2e: [50 + 99 * 10] });
  });

  it("takes relative changes of the median", () => {
    assert.equal(relativeChange(100, 120), 0.2);
    assert.equal(relativeChange(0, 0), 0);
    assert.equal(relativeChange(0, 5), Number.POSITIVE_INFINITY);
  });
});

describe("compareRuns", () => {
  it("calls a 20% higher TTFT over 50 requests each a regression", () => {
    const m = metricOf("c=4", "ttft");
    assert.equal(m.verdict, "regression");
    assert.ok(m.pValue < 0.001, `p = ${m.pValue}`);
    // The medians of two samples of 50 carry a few % of noise each (log-normal, sigma 0.15).
    assert.ok(m.change > 0.1 && m.change < 0.35, `change ${m.change}`);
    assert.ok(m.effect > 0.7, `effect ${m.effect}`);
    assert.equal(m.a.n, 50);
    assert.equal(m.b.n, 50);
    assert.ok(m.b.p95 > m.a.p95);
  });

  it("calls a 30% lower TTFT an improvement", () => {
    const m = metricOf("c=2", "ttft");
    assert.equal(m.verdict, "improvement");
    assert.ok(m.change < -0.2, `change ${m.change}`);
  });

  it("finds no significant change between identical distributions, nor below the minimum change", () => {
    for (const metric of ["ttft", "tpot", "e2e"]) {
      const m = metricOf("c=8", metric);
      assert.equal(m.verdict, "no significant change", `${metric}: p ${m.pValue}, change ${m.change}`);
    }
    const e2e = metricOf("c=4", "e2e");
    assert.ok(Math.abs(e2e.change) < 0.05, `e2e change ${e2e.change}`);
    assert.equal(e2e.verdict, "no significant change");
  });

  it("lists levels measured in one run only", () => {
    assert.deepEqual(
      result.levels.map((l) => l.scenario),
      ["c=2", "c=4", "c=8"],
    );
    assert.deepEqual(result.unmatched, [
      { scenario: "c=1", onlyIn: "A" },
      { scenario: "c=16", onlyIn: "B" },
    ]);
  });

  it("compares throughput and goodput as single numbers", () => {
    const rates = levelOf("c=4").rates;
    assert.deepEqual(
      rates.map((r) => r.metric),
      ["request_throughput", "output_token_throughput", "goodput_share"],
    );
    const [req] = rates;
    const summaryA = runA.levels.find((s) => s.scenario === "c=4");
    const summaryB = runB.levels.find((s) => s.scenario === "c=4");
    assert.ok(req && summaryA && summaryB);
    assert.equal(req.a, summaryA.request_throughput);
    assert.equal(req.b, summaryB.request_throughput);
    assert.equal(req.change, (req.b - req.a) / req.a);
    assert.equal(rates[2]?.a, 1); // every request ok and no criteria: all good
  });

  it("counts verdicts for the headline", () => {
    assert.deepEqual(result.counts, {
      regression: 1,
      improvement: 1,
      "no significant change": 7,
      "too few samples": 0,
    });
    assert.equal(
      compareHeadline(result),
      "1 regression, 1 improvement, 7 unchanged (Mann-Whitney U, two-sided, alpha 0.05, min change 5%)",
    );
  });

  it("honours alpha and the minimum change", () => {
    const strict = compareRuns(runA, runB, { alpha: 0.01, minChange: 0.25 });
    assert.equal(strict.counts.regression, 0); // +20% is below a 25% minimum
    assert.equal(strict.counts.improvement, 1); // -30% is not
    assert.equal(
      compareHeadline(strict),
      "0 regressions, 1 improvement, 8 unchanged (Mann-Whitney U, two-sided, alpha 0.01, min change 25%)",
    );
  });

  it("says when a level has too few samples to test", () => {
    const rng = createRng(7);
    const few = compareRuns(runInput(level("c=1", 2, rng)), runInput(level("c=1", 40, rng, 3)));
    assert.deepEqual(
      few.levels[0]?.metrics.map((m) => [m.verdict, m.pValue]),
      [
        ["too few samples", 1],
        ["too few samples", 1],
        ["too few samples", 1],
      ],
    );
    assert.match(
      compareHeadline(few),
      /^0 regressions, 0 improvements, 0 unchanged, 3 with too few samples \(/,
    );
  });
});

describe("compare text", () => {
  it("prints one row per level and metric, in a terminal table and in Markdown", () => {
    const text = compareText(result, { a: "runs/a", b: "runs/b" });
    const lines = text.split("\n");
    assert.equal(lines[0], "A = runs/a");
    assert.equal(lines[2], compareHeadline(result));
    assert.match(text, /^level\s+metric\s+A p50\s+B p50\s+change\s+A p95\s+B p95\s+p-value\s+verdict$/m);
    assert.match(text, /^c=4\s+ttft ms\s+\S+\s+\S+\s+\+\d+\.\d%\s+[\d.]+\s+[\d.]+\s+<0\.001\s+regression$/m);
    assert.match(text, /^c=2\s+ttft ms\s+\S+\s+\S+\s+-\d+\.\d%\s+[\d.]+\s+[\d.]+\s+<0\.001\s+improvement$/m);
    assert.match(text, /^c=8\s+req\/s\s+[\d.]+\s+[\d.]+\s+\S+\s+-\s+-\s+-\s+\(no test\)$/m);
    assert.match(text, /^c=1: only in run A, not compared$/m);
    assert.match(text, /^c=16: only in run B, not compared$/m);
    // 3 levels x (3 latencies + 3 single numbers) rows, all the same width but the verdict.
    const rows = lines.filter((l) => /^c=\d+ {2,}/.test(l));
    assert.equal(rows.length, 18);

    const md = compareMarkdown(result);
    assert.match(
      md,
      /^\| level \| metric \| A p50 \| B p50 \| change \| A p95 \| B p95 \| p-value \| verdict \|$/m,
    );
    assert.match(md, /^\|---\|---\|---\|---\|---\|---\|---\|---\|---\|$/m);
    assert.match(
      md,
      /^\| c=4 \| ttft ms \| [\d.]+ \| [\d.]+ \| \+[\d.]+% \| [\d.]+ \| [\d.]+ \| <0\.001 \| regression \|$/m,
    );
    assert.match(md, /^- c=16: only in run B, not compared$/m);
    assert.equal(md.split("\n").filter((l) => l.startsWith("| c=")).length, 18);
  });
});
