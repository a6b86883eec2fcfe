import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DatasetError, parseJsonlDataset, parseShareGpt } from "../../src/core/dataset.js";
import { parseLength, sampleLength } from "../../src/core/length-distribution.js";
import { createRng } from "../../src/core/rng.js";
import { datasetSource, requestInput } from "../../src/core/workload.js";

describe("datasets and lengths", () => {
  it("reads JSONL prompts, chat messages and output lengths, and names a bad line", () => {
    const items = parseJsonlDataset(
      '{"prompt":"a","output_tokens":5}\n\n{"messages":[{"role":"user","content":"b"}]}\n',
      "p.jsonl",
    );
    assert.deepEqual(items, [{ prompt: "a", outputTokens: 5 }, { prompt: "b" }]);
    assert.throws(
      () => parseJsonlDataset('{"prompt":"a"}\n{oops\n', "p.jsonl"),
      /p\.jsonl line 2 is not JSON/,
    );
    assert.throws(() => parseJsonlDataset('{"text":"a"}\n', "p.jsonl"), DatasetError);
  });

  it("reads ShareGPT: the first human turn, and the reply's length in estimated tokens", () => {
    const json = JSON.stringify([
      {
        conversations: [
          { from: "human", value: "Hi?" },
          { from: "gpt", value: "x".repeat(40) },
        ],
      },
      { conversations: [{ from: "gpt", value: "skipped: starts with the model" }] },
    ]);
    assert.deepEqual(parseShareGpt(json, "s.json"), [{ prompt: "Hi?", outputTokens: 10 }]);
    assert.throws(() => parseShareGpt("{}", "s.json"), /not a JSON array/);
  });

  it("draws lengths from fixed, uniform and normal distributions, seeded", () => {
    const rng = createRng(3);
    const u = parseLength("uniform:10:20");
    const xs = Array.from({ length: 2000 }, () => sampleLength(u, rng));
    assert.equal(Math.min(...xs), 10);
    assert.equal(Math.max(...xs), 20);
    const n = parseLength("normal:300:50");
    const ys = Array.from({ length: 4000 }, () => sampleLength(n, rng));
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    assert.ok(Math.abs(mean - 300) < 4, `mean ${mean}`);
    assert.throws(() => parseLength("uniform:20:10"), /uniform:MIN:MAX/);
    assert.throws(() => parseLength("0"), /not a length/);
  });

  it("gives every request a reproducible input: same seed, same run", () => {
    const items = [{ prompt: "p1" }, { prompt: "p2", outputTokens: 7 }, { prompt: "p3" }];
    const w = { prompts: datasetSource(items, "d", 9), maxTokens: 64, seed: 9 };
    const run = () => Array.from({ length: 6 }, (_, i) => requestInput(w, i));
    assert.deepEqual(run(), run());
    assert.deepEqual(new Set(run().map((r) => r.prompt)), new Set(["p1", "p2", "p3"]));
    const p2 = run().find((r) => r.prompt === "p2");
    assert.deepEqual(p2, { prompt: "p2", maxTokens: 7, exact: true });
    const synthetic = {
      prompts: { kind: "synthetic" as const, input: parseLength("uniform:5:9") },
      output: parseLength("12"),
      maxTokens: 64,
      seed: 2,
    };
    const r0 = requestInput(synthetic, 0);
    assert.ok(r0.prompt.split(" ").length >= 5 && r0.prompt.split(" ").length <= 9);
    assert.deepEqual([r0.maxTokens, r0.exact], [12, true]);
  });
});
