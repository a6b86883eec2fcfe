import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Agent } from "undici";
import { parseObjective } from "../../src/core/objective.js";
import type { RequestRecord } from "../../src/core/record.js";
import { findCapacity } from "../../src/load/capacity-search.js";
import { simParams } from "../../src/sim/presets.js";
import { startSimServer } from "../../src/sim/sim-server.js";
import { quickRunner } from "../helpers/run-bench.js";

describe("capacity at SLO", () => {
  it("finds the knee of a simulator with 6 slots: beyond 6 users, requests queue and TTFT jumps", async () => {
    // Each answer is 20 tokens of ~3 ms steps (~60 ms). Up to 6 users, TTFT is one step or two;
    // with 7, one user always waits a whole answer for a slot.
    const sim = await startSimServer(
      simParams("fast", {
        engine: {
          maxRunning: 6,
          kvCacheTokens: 100_000,
          prefillBaseMs: 1,
          prefillMsPerToken: 0,
          decodeBaseMs: 3,
          decodeMsPerSeq: 0,
        },
      }),
    );
    const agent = new Agent({ connections: null });
    const records: RequestRecord[] = [];
    try {
      const slo = { request: {}, objectives: [parseObjective("ttft p(90) < 30ms")] };
      const runner = quickRunner(sim.baseUrl, 30, { maxTokens: 20, slo, warmup: 6 }, records, agent);
      const t0 = performance.now();
      const result = await findCapacity(runner, {
        mode: "concurrency",
        start: 1,
        max: 64,
        tolerance: 0.01,
        budgetMs: 120_000,
        noiseMargin: 0.05,
        now: () => performance.now() - t0,
      });
      assert.equal(result.capacity, 6, JSON.stringify(result.trials.map((t) => [t.load, t.pass])));
      assert.equal(result.failedAt, 7);
      assert.equal(result.ending, "converged");
      assert.deepEqual(
        result.trials.map((t) => t.load).slice(0, 4),
        [1, 2, 4, 8],
        "brackets by doubling before it bisects",
      );
    } finally {
      await agent.close();
      await sim.close();
    }
  });

  it("reports no capacity when the first load already fails, tries the max, stops within its budget", async () => {
    const sim = await startSimServer(simParams("fast"));
    const agent = new Agent({ connections: null });
    type Slo = { request: Record<string, never>; objectives: ReturnType<typeof parseObjective>[] };
    const search = (
      slo: Slo,
      mode: "rate" | "concurrency",
      start: number,
      max: number,
      budgetMs = 60_000,
    ) => {
      const t0 = performance.now();
      return findCapacity(quickRunner(sim.baseUrl, 5, { maxTokens: 4, slo }, [], agent), {
        mode,
        start,
        max,
        tolerance: 0.1,
        budgetMs,
        noiseMargin: 0.05,
        now: () => performance.now() - t0,
      });
    };
    try {
      const impossible = { request: {}, objectives: [parseObjective("ttft p(50) < 0.001ms")] };
      const none = await search(impossible, "rate", 5, 100);
      assert.equal(none.capacity, undefined);
      assert.equal(none.ending, "first-load-failed");
      const easy = { request: {}, objectives: [parseObjective("ttft p(50) < 10s")] };
      const budgeted = await search(easy, "concurrency", 1, 1024, 1);
      assert.equal(budgeted.ending, "budget");
      assert.equal(budgeted.trials.length, 1);
      // Doubling from 1 to a max of 3 tries 3 itself, not just 1 and 2.
      const upToMax = await search(easy, "concurrency", 1, 3);
      assert.deepEqual(
        upToMax.trials.map((t) => t.load),
        [1, 2, 3],
      );
      assert.equal(upToMax.capacity, 3);
      assert.equal(upToMax.ending, "max");
      // An abortOnFail objective stops the run at the load that failed it: that load still bounds the answer.
      const abort = { request: {}, objectives: [parseObjective("ttft p(50) < 0.001ms", true, 3)] };
      const stopped = await search(abort, "rate", 5, 100);
      assert.equal(stopped.ending, "stopped");
      assert.equal(stopped.failedAt, 5);
    } finally {
      await agent.close();
      await sim.close();
    }
  });
});
