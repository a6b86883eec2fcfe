import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/core/slo/burn-rate.js";
import { LIVE_WINDOWS_MS, LiveBurn } from "../../src/core/slo/live-burn.js";
import type { ProductionSlo } from "../../src/core/slo/production-spec.js";

const slo: ProductionSlo = { name: "availability", sli: "availability", objective: 0.99 };

describe("in-process burn rates", () => {
  it("covers the alert rules' windows", () => {
    assert.deepEqual(LIVE_WINDOWS_MS, [
      5 * MINUTE_MS,
      30 * MINUTE_MS,
      HOUR_MS,
      2 * HOUR_MS,
      6 * HOUR_MS,
      DAY_MS,
      3 * DAY_MS,
    ]);
  });

  it("counts each event in the windows that hold it, and the budget since the start", () => {
    const live = new LiveBurn([slo], 30 * DAY_MS);
    const t0 = 10 * DAY_MS;
    // 50 min ago: 100 requests, 10 bad; in the last minute: 100 requests, 1 bad
    for (let i = 0; i < 100; i++) live.record("availability", i >= 10, t0 - 50 * MINUTE_MS);
    for (let i = 0; i < 100; i++) live.record("availability", i >= 1, t0 - 30_000);
    assert.ok(Math.abs(live.burnRate(slo, 5 * MINUTE_MS, t0) - 0.01 / 0.01) < 1e-9); // 1% bad / 1% budget
    assert.ok(Math.abs(live.burnRate(slo, HOUR_MS, t0) - 0.055 / 0.01) < 1e-9); // 11 of 200
    assert.ok(Math.abs(live.budgetRemaining(slo) - (1 - 5.5)) < 1e-9);
    // four days on, both are outside every window; the ring's stale slots read as empty
    assert.equal(live.burnRate(slo, 3 * DAY_MS, t0 + 4 * DAY_MS), 0);
    live.record("availability", false, t0 + 4 * DAY_MS);
    assert.ok(Math.abs(live.burnRate(slo, 5 * MINUTE_MS, t0 + 4 * DAY_MS) - 100) < 1e-9);
    assert.deepEqual(
      live.burnRates(t0 + 4 * DAY_MS).map((b) => b.window),
      ["5m", "30m", "1h", "2h", "6h", "1d", "3d"],
    );
  });
});
