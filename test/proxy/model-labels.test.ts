import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelLabels } from "../../src/proxy/model-labels.js";
import { simParams } from "../../src/sim/presets.js";
import { startSimServer } from "../../src/sim/sim-server.js";

describe("proxy model labels", () => {
  it("learns the upstream's models, again on a miss; a request naming none takes the only one, an unknown name is other", async () => {
    const sim = await startSimServer(simParams("fast"));
    try {
      const learned = new ModelLabels(undefined, sim.origin);
      // Nothing known yet: the miss is labelled other and starts a refresh, so the next is right.
      assert.equal(learned.label("streamslo-sim"), "other");
      for (let i = 0; i < 100 && learned.label("streamslo-sim") === "other"; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(learned.label("streamslo-sim"), "streamslo-sim");
      assert.equal(learned.label(undefined), "streamslo-sim");
      assert.equal(learned.label("gpt-4o"), "other");
      const two = new ModelLabels(["a", "b"], sim.origin);
      await two.refresh();
      assert.equal(two.label("b"), "b");
      assert.equal(two.label(undefined), "other", "with two models, which one answers is unknown");
      assert.equal(two.label("streamslo-sim"), "other", "an allowlist is not widened by the upstream");
    } finally {
      await sim.close();
    }
  });
});
