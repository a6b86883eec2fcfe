import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { ClientHealth, DEFAULT_VALIDITY } from "../../src/load/client-health.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the client watching itself", () => {
  it("notes one long event-loop stall that a p99 under its limit would hide", async () => {
    const health = new ClientHealth();
    await sleep(200);
    const t = performance.now();
    while (performance.now() - t < 160) {
      // a synchronous stretch: the event loop cannot run for 160 ms
    }
    await sleep(2300);
    const v = health.finish(null, DEFAULT_VALIDITY, false);
    assert.ok(v.loop_lag_max_ms > 130, `max ${v.loop_lag_max_ms}`);
    assert.ok(v.loop_lag_p99_ms <= DEFAULT_VALIDITY.maxLoopLagMs, `p99 ${v.loop_lag_p99_ms}`);
    assert.equal(v.valid, true);
    assert.match(v.warnings.join("\n"), /event loop stalled once for 1\d\d ms/);
  });

  it("notes a machine whose CPUs were all busy while it measured", async () => {
    const spin = "const t = Date.now(); while (Date.now() - t < 1800) {}";
    const children = Array.from({ length: availableParallelism() }, () =>
      spawn(process.execPath, ["-e", spin], { stdio: "ignore" }),
    );
    try {
      await sleep(200);
      const health = new ClientHealth();
      await sleep(1200);
      const v = health.finish(null, DEFAULT_VALIDITY, false);
      assert.ok((v.host_cpu_busy ?? 0) > 0.9, `busy ${v.host_cpu_busy}`);
      assert.match(v.warnings.join("\n"), /this machine's CPUs were \d+% busy over the level/);
    } finally {
      for (const c of children) c.kill();
    }
  });
});
