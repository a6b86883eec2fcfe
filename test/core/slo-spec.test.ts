import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LevelAggregate } from "../../src/core/level-aggregate.js";
import { observedText, parseObjective } from "../../src/core/objective.js";
import type { RequestRecord } from "../../src/core/record.js";
import { judgeRequest } from "../../src/core/request-slo.js";
import { evaluateObjectives } from "../../src/core/slo-eval.js";
import { parseSloYaml, SloSpecError } from "../../src/core/slo-spec.js";

describe("objectives", () => {
  it("show an observed value in the objective's own terms, whatever its case", () => {
    const ms = (v: number) => `${v} ms`;
    assert.equal(observedText(0.0025, "error_rate < 1%", ms), "0.25%");
    assert.equal(observedText(0.0025, "Error_Rate < 1%", ms), "0.25%");
    assert.equal(observedText(0.0025, "error_rate < 0.01", ms), "0.0025");
    assert.equal(observedText(12.5, "TTFT p(95) < 300ms", ms), "12.5 ms");
    assert.equal(observedText(0.93, "goodput >= 0.9", ms), "0.93");
    assert.equal(observedText(null, "ttft p(95) < 300ms", ms), "no data");
  });

  it("parse k6-style thresholds with units", () => {
    const o = parseObjective("ttft p(95) < 300ms");
    assert.deepEqual(
      [o.metric, o.aggregation, o.op, o.value],
      ["ttft", { kind: "percentile", p: 95 }, "<", 300],
    );
    assert.equal(parseObjective("e2e p(99.9)<=1.5s").value, 1500);
    assert.deepEqual(parseObjective("tpot med < 20").aggregation, { kind: "percentile", p: 50 });
    assert.equal(parseObjective("error_rate < 0.1%").value, 0.001);
    assert.equal(parseObjective("goodput>=0.9").op, ">=");
  });

  it("reject what they cannot judge, saying what to write", () => {
    assert.throws(() => parseObjective("ttft < 300ms"), /needs an aggregation such as p\(95\)/);
    assert.throws(() => parseObjective("latency p(95) < 3"), /unknown metric "latency"; known: ttft/);
    assert.throws(() => parseObjective("goodput p(95) > 1"), /single number/);
    assert.throws(() => parseObjective("ttft p(95) about 3"), /METRIC \[p\(N\)/);
    assert.throws(() => parseObjective("goodput > 2ms"), /takes no time unit/);
    assert.throws(() => parseObjective("ttft p(95) < 1%"), /ttft is a time: write ms, s or us, not %/);
    assert.throws(
      () => parseObjective("request_throughput > 5%"),
      /request_throughput is not a share, not %/,
    );
    assert.throws(
      () => parseObjective("goodput >= 95"),
      /goodput is a share from 0 to 1: write 0\.95 or 95%/,
    );
    assert.throws(() => parseObjective("error_rate < 150%"), /error_rate is a share from 0 to 1/);
    assert.equal(parseObjective("fluidity avg >= 90%").value, 0.9);
    assert.equal(parseObjective("success_rate == 1").value, 1);
  });
});

describe("SLO files", () => {
  const yaml = `
name: chat
request:
  ttft: 300ms
  tpot: 15
  output:
    contains: "Paris"
objectives:
  - "ttft p(95) < 300ms"
  - threshold: "goodput >= 0.9"
    abortOnFail: true
`;

  it("parse durations, output checks and objectives; fluidity defaults to the TTFT/TPOT criteria", () => {
    const s = parseSloYaml(yaml, "slo.yaml");
    assert.equal(s.request.ttftMs, 300);
    assert.equal(s.request.tpotMs, 15);
    assert.equal(s.request.output?.contains, "Paris");
    assert.equal(s.objectives.length, 2);
    assert.equal(s.objectives[1]?.abortOnFail, true);
    assert.deepEqual(s.fluidity, { ttftMs: 300, tbtMs: 15 });
  });

  it("name the field and what it accepts", () => {
    const bad = (text: string, pattern: RegExp) => {
      assert.throws(
        () => parseSloYaml(text, "slo.yaml"),
        (e: Error) => e instanceof SloSpecError && pattern.test(e.message),
      );
    };
    bad("request:\n  ttft: fast\n", /slo\.yaml: request\.ttft: expected a duration like "300ms"/);
    bad("request:\n  ttfb: 3ms\n", /request: unknown field\(s\) ttfb; allowed: ttft, tpot, itl, e2e, output/);
    bad(
      "objectives:\n  - 'ttft < 3ms'\n",
      /objectives\[0\]: objective "ttft < 3ms": ttft needs an aggregation/,
    );
    bad("request: [\n", /slo\.yaml line \d+: not valid YAML/);
    bad("request:\n  output:\n    regex: '(('\n", /request\.output\.regex:/);
    bad("window: 720h\nslos: []\n", /slo\.yaml: window: expected a whole number of days like "30d"/);
  });
});

function rec(over: Partial<RequestRecord>): RequestRecord {
  return {
    id: "r",
    scenario: "t",
    phase: "measure",
    intendedStartMs: 0,
    startMs: 0,
    firstContentMs: 100,
    chunkTimesMs: [100, 110, 120],
    chunkTokens: [1, 1, 1],
    endMs: 125,
    outputTokens: 3,
    tokenSource: "usage",
    outcome: "ok",
    text: "The capital is Paris.",
    ...over,
  };
}

describe("goodput and quality", () => {
  const spec = parseSloYaml(yaml2(), "slo.yaml");
  function yaml2() {
    return "request:\n  ttft: 150ms\n  tpot: 20ms\n  output:\n    contains: Paris\nobjectives:\n  - goodput >= 0.5\n  - e2e_quality >= 0.5\n  - ttft p(50) < 150ms\n";
  }

  it("judges each request and names the criteria it missed", () => {
    assert.deepEqual(judgeRequest(rec({}), spec.request), { good: true, missed: [], quality: true });
    assert.deepEqual(
      judgeRequest(rec({ firstContentMs: 200, chunkTimesMs: [200, 210, 220] }), spec.request).missed,
      ["ttft"],
    );
    // An answer sent whole (no first token of its own) is held to its end: 200 ms against ttft 150ms.
    const whole = { firstContentMs: undefined, chunkTimesMs: [200], chunkTokens: [3], endMs: 200 };
    assert.deepEqual(judgeRequest(rec(whole), spec.request).missed, ["ttft"]);
    assert.deepEqual(
      judgeRequest(rec({ ...whole, chunkTimesMs: [120], endMs: 120 }), spec.request).missed,
      [],
    );
    assert.deepEqual(judgeRequest(rec({ text: "Lyon" }), spec.request), {
      good: false,
      missed: ["output"],
      quality: false,
    });
    assert.deepEqual(judgeRequest(rec({ outcome: "incomplete" }), spec.request), {
      good: false,
      missed: ["outcome"],
    });
  });

  it("goodput counts errors against it; quality x infrastructure = end-to-end quality", () => {
    const agg = new LevelAggregate({ scenario: "t", mode: "stream" }, spec);
    const records = [
      rec({}),
      rec({}),
      rec({ text: "Lyon" }),
      rec({
        outcome: "error",
        error: { code: "http_500", message: "x" },
        chunkTimesMs: [],
        firstContentMs: undefined,
      }),
    ];
    for (const r of records) agg.add({ ...r, slo: judgeRequest(r, spec.request) });
    const s = agg.summary();
    assert.equal(s.goodput.good, 2);
    assert.equal(s.goodput.share, 0.5);
    assert.deepEqual(s.goodput.missed_by, { output: 1, outcome: 1 });
    // quality: 2 of 3 ok answers pass; infrastructure: 3 of 4 ok; end to end: 2/3 x 3/4 = 0.5
    assert.equal(s.quality?.pass_rate, 2 / 3);
    assert.equal(s.quality?.infra_success_rate, 0.75);
    assert.ok(Math.abs((s.quality?.e2e_quality ?? 0) - 0.5) < 1e-12);
    const results = evaluateObjectives(spec.objectives, agg);
    assert.deepEqual(
      results.map((r) => r.pass),
      [true, true, true],
    );
    assert.equal(results[0]?.observed, 0.5);
  });

  it("an objective with nothing measured fails", () => {
    const agg = new LevelAggregate({ scenario: "t", mode: "stream" }, spec);
    assert.deepEqual(evaluateObjectives([parseObjective("ttft p(95) < 1s")], agg), [
      { objective: "ttft p(95) < 1s", observed: null, pass: false },
    ]);
  });
});
