import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestInput, type Workload } from "../../src/core/workload.js";

describe("synthetic prompts with a shared prefix", () => {
  const w: Workload = {
    prompts: { kind: "synthetic", input: { kind: "fixed", value: 40 }, prefix: { tokens: 30, groups: 2 } },
    maxTokens: 8,
    seed: 3,
  };
  const words = (i: number) => requestInput(w, i).prompt.split(" ");

  it("gives every prompt of a group the same first P tokens, byte for byte, and each group its own", () => {
    for (const i of [0, 1, 2, 3, 4, 5]) assert.equal(words(i).length, 40);
    assert.deepEqual(words(0).slice(0, 30), words(2).slice(0, 30));
    assert.deepEqual(words(1).slice(0, 30), words(5).slice(0, 30));
    assert.notDeepEqual(words(0).slice(0, 30), words(1).slice(0, 30), "two groups, two prefixes");
    assert.notDeepEqual(words(0).slice(30), words(2).slice(30), "the rest differs per request");
  });

  it("without a prefix, no two prompts share their start", () => {
    const plain: Workload = { ...w, prompts: { kind: "synthetic", input: { kind: "fixed", value: 40 } } };
    const a = requestInput(plain, 0).prompt.split(" ").slice(0, 10);
    const b = requestInput(plain, 2).prompt.split(" ").slice(0, 10);
    assert.notDeepEqual(a, b);
  });
});
