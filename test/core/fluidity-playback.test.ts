import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fluidityIndex } from "../../src/core/fluidity.js";
import { playback } from "../../src/core/playback.js";
import type { RequestRecord } from "../../src/core/record.js";

/** A record whose content chunks arrive at `times` (ms after a start at 0). */
function rec(times: number[], tokens?: number[]): RequestRecord {
  return {
    id: "r",
    scenario: "t",
    phase: "measure",
    intendedStartMs: 0,
    startMs: 0,
    firstContentMs: times[0],
    chunkTimesMs: times,
    chunkTokens: tokens ?? times.map(() => 1),
    tokenSource: "chunks",
    outcome: "ok",
  };
}

describe("Metron fluidity-index, worked by hand (TTFT deadline 100 ms, TBT 10 ms)", () => {
  const d = { ttftMs: 100, tbtMs: 10 };

  it("every token on time: 1", () => {
    // TTFT 80 banks 20 ms of slack; each later gap of 10 meets its deadline.
    assert.equal(fluidityIndex(rec([80, 90, 100, 110]), d), 1);
  });

  it("a 35 ms stall with no slack misses 3 deadlines: 1 - 3/6", () => {
    // Token 0 at 100 (on time, slack 0); token 1 +10 (on time); token 2 +35:
    // floor((35 - 0 - 10) / 10) + 1 = 3 missed deadlines; token 3 +10 (on time). 6 deadlines, 3 missed.
    assert.equal(fluidityIndex(rec([100, 110, 145, 155]), d), 0.5);
  });

  it("slack banked early absorbs a later stall", () => {
    // TTFT 50 banks 50; gap 10 keeps it; gap 40 spends 30 of it (slack 20); gap 10 on time.
    assert.equal(fluidityIndex(rec([50, 60, 100, 110]), d), 1);
  });

  it("the same stall early on, before slack builds up, costs deadlines", () => {
    // TTFT 100 (slack 0), then the 40 ms gap first: floor((40 - 10) / 10) + 1 = 4 missed of 4 + 1 + 1.
    assert.equal(fluidityIndex(rec([100, 140, 150]), d), 1 - 4 / 6);
  });

  it("tokens of one chunk arrive together: only the first waited", () => {
    // One chunk of 3 tokens at 100: gaps 100, 0, 0: all on time.
    assert.equal(fluidityIndex(rec([100], [3]), d), 1);
  });
});

describe("jitter-buffer playback model, worked by hand", () => {
  it("buffers 100 ms at 20 tokens/s, then stalls once for 80 ms", () => {
    // Interval 50 ms, so 2 tokens fill the buffer: playback starts when the 2nd arrives (120).
    // Token 1 plays at 170 (arrived at 120); token 2 is due at 220 but arrives at 300: an 80 ms stall;
    // token 3 is due at 350 and arrived at 310.
    const p = playback(rec([100, 120, 300, 310]), { bufferMs: 100, tokensPerSecond: 20 });
    assert.deepEqual(p, { perceivedTtftMs: 120, stalls: 1, stallMs: 80, longestStallMs: 80 });
  });

  it("a bigger buffer trades a later start for no stall", () => {
    const p = playback(rec([100, 120, 300, 310]), { bufferMs: 200, tokensPerSecond: 20 });
    // 4 tokens needed: playback starts at 310 with everything already there.
    assert.deepEqual(p, { perceivedTtftMs: 310, stalls: 0, stallMs: 0, longestStallMs: 0 });
  });
});
