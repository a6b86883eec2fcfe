import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { sleepUntil } from "../../src/load/pacing.js";

const now = () => performance.now();

describe("sleepUntil", () => {
  it("never returns before the deadline, holding or yielding", async () => {
    for (const idle of [true, false]) {
      for (const aheadMs of [0, 0.5, 1.8, 5, 20]) {
        const at = now() + aheadMs;
        await sleepUntil(now, at, () => idle);
        assert.ok(now() >= at, `idle=${idle}, ${aheadMs} ms ahead`);
      }
    }
  });

  it("lets I/O run during the last stretch while requests are in flight, and holds it when none are", async () => {
    for (const idle of [false, true]) {
      // A clock that moves 10 us per reading: the wait takes the same number of steps every run.
      let t = 0;
      const stepping = () => (t += 0.01);
      let finished = false;
      let ranDuring = false;
      const done = sleepUntil(stepping, 1.9, () => idle).then(() => {
        finished = true;
      });
      setImmediate(() => {
        ranDuring = !finished;
      });
      await done;
      assert.equal(ranDuring, !idle, idle ? "held: nothing ran before the deadline" : "yielded: I/O ran");
    }
  });
});
