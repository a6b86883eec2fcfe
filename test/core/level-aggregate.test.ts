import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LevelAggregate } from "../../src/core/level-aggregate.js";
import type { RequestRecord } from "../../src/core/record.js";
import { requestMetrics } from "../../src/core/request-metrics.js";

function record(over: Partial<RequestRecord>): RequestRecord {
  return {
    id: "r",
    scenario: "c=1",
    phase: "measure",
    intendedStartMs: 0,
    startMs: 0,
    chunkTimesMs: [],
    chunkTokens: [],
    tokenSource: "usage",
    outcome: "ok",
    ...over,
  };
}

// Sent at 10; first content at 110; chunks at 110, 130, 170 (the last carries 2 tokens); closed at 175.
const r1 = record({
  intendedStartMs: 5,
  startMs: 10,
  firstContentMs: 110,
  chunkTimesMs: [110, 130, 170],
  chunkTokens: [1, 1, 2],
  endMs: 175,
  outputTokens: 4,
  promptTokens: 12,
});

describe("requestMetrics", () => {
  it("derives TTFT, queue-inclusive TTFT, E2E, wall, TPOT and jitter from raw timestamps", () => {
    const m = requestMetrics(r1);
    assert.equal(m.ttftMs, 100);
    assert.equal(m.ttftQueuedMs, 105);
    assert.equal(m.e2eMs, 160); // last content chunk, not the stream close
    assert.equal(m.wallMs, 165);
    assert.equal(m.tpotMs, 20); // (160 - 100) / (4 - 1)
    assert.equal(m.jitterMs, 10); // gaps 20 and 40: stddev 10
  });

  it("falls back to counting chunk tokens when usage is missing", () => {
    const m = requestMetrics({ ...r1, outputTokens: undefined, tokenSource: "chunks" });
    assert.equal(m.outputTokens, 4);
  });
});

describe("LevelAggregate", () => {
  it("judges fluidity on streamed answers only: an answer sent whole has no pacing", () => {
    const slo = { objectives: [], fluidity: { ttftMs: 200, tbtMs: 50 } } as unknown as ConstructorParameters<
      typeof LevelAggregate
    >[1];
    const agg = new LevelAggregate({ scenario: "c=1", mode: "stream" }, slo);
    agg.add(r1);
    agg.add(record({ startMs: 0, chunkTimesMs: [90], chunkTokens: [4], endMs: 95, outputTokens: 4 }));
    assert.equal(agg.dist.fluidity.count, 1);
  });

  it("gives the percentiles of counts (tokens, stalls) as whole numbers, their means as they are", () => {
    const agg = new LevelAggregate({ scenario: "c=1", mode: "stream", concurrency: 1 });
    const prompts = [248, 276, 276, 301, 334, 1999, 2500];
    for (const [i, p] of prompts.entries())
      agg.add(record({ ...r1, id: `r${i}`, promptTokens: p, outputTokens: 3 + i }));
    const s = agg.summary();
    for (const k of ["input_tokens", "output_tokens", "stalls"] as const) {
      for (const q of ["p50", "p90", "p95", "p99", "p99_9"] as const)
        assert.ok(Number.isNaN(s[k][q]) || Number.isInteger(s[k][q]), `${k} ${q} = ${s[k][q]}`);
    }
    assert.equal(s.input_tokens.p50, 301);
    assert.equal(s.input_tokens.min, 248);
    assert.ok(!Number.isInteger(s.input_tokens.mean), "a mean is a mean");
  });

  it("keeps the accounting invariant and times only successful requests", () => {
    const agg = new LevelAggregate({ scenario: "c=1", mode: "stream", concurrency: 1 });
    agg.add(r1);
    agg.add(
      record({ startMs: 200, endMs: 210, outcome: "error", error: { code: "http_503", message: "x" } }),
    );
    agg.add(
      record({
        startMs: 300,
        firstContentMs: 320,
        chunkTimesMs: [320],
        chunkTokens: [1],
        endMs: 410,
        outcome: "incomplete",
        error: { code: "stream_reset", message: "x" },
      }),
    );
    const s = agg.summary();
    assert.equal(s.n, 3);
    assert.equal(s.n, s.ok + s.error + s.incomplete);
    assert.deepEqual(s.errors_by_code, { http_503: 1, stream_reset: 1 });
    assert.equal(s.ttft_ms.count, 1);
    assert.equal(s.ttft_ms.p50, 100);
    assert.equal(s.duration_s, 0.4); // first start 10 .. last end 410
    assert.equal(s.total_output_tokens, 4);
    assert.equal(s.output_token_throughput, 10);
    assert.equal(s.median_wall_s, 0.165);
  });

  it("records per-chunk ITL once per chunk and per-token ITL once per token", () => {
    const agg = new LevelAggregate({ scenario: "c=1", mode: "stream" });
    agg.add(r1);
    const s = agg.summary();
    assert.equal(s.itl_chunk_ms.count, 2); // gaps 20, 40
    assert.equal(s.itl_chunk_ms.mean, 30);
    assert.equal(s.itl_token_ms.count, 3); // 20, then 40/2 twice
    assert.equal(s.itl_token_ms.max, 20);
    assert.equal(s.itl_token_ms.min, 20);
  });
});
