import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusText } from "../../src/core/prometheus-text.js";
import { createRng } from "../../src/core/rng.js";
import { syntheticText } from "../../src/core/synthetic-text.js";
import { simParams } from "../../src/sim/presets.js";
import { startSimServer } from "../../src/sim/sim-server.js";

/** One non-streamed one-token answer: its wall time is queue + prefill + one step. */
async function timed(base: string, prompt: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "streamslo-sim", prompt, max_tokens: 1 }),
  });
  await res.text();
  assert.equal(res.status, 200);
  return performance.now() - t;
}

function counter(text: string, name: string): number {
  return parsePrometheusText(text)
    .samples.filter((s) => s.name === name)
    .reduce((a, s) => a + s.value, 0);
}

describe("the simulator's prefix cache", () => {
  // The default preset prefills at 0.02 ms a token: 4,000 tokens are 80 ms of prefill.
  const long = (seed: number) => syntheticText(createRng(seed), 4000);

  it("answers a prompt it has seen faster, and says so in vLLM's prefix-cache counters", async () => {
    const sim = await startSimServer(simParams("default"));
    try {
      await timed(sim.baseUrl, "warm up the server process"); // JIT and the first connection
      const p = long(1);
      const cold = await timed(sim.baseUrl, p);
      const warm = await timed(sim.baseUrl, p);
      assert.ok(warm < cold - 40, `cached ${warm.toFixed(1)} ms vs cold ${cold.toFixed(1)} ms`);
      const m = await (await fetch(`${sim.origin}/metrics`)).text();
      const queried = counter(m, "vllm:prefix_cache_queries_total");
      const hits = counter(m, "vllm:prefix_cache_hits_total");
      assert.equal(queried, 8005, "the warm-up's 5 tokens and the prompt twice");
      assert.ok(hits >= 3984 && hits < 4000, `hits ${hits}: the whole blocks of the repeated prompt`);
    } finally {
      await sim.close();
    }
  });

  it("does not when other prompts evicted it (a KV cache too small for both)", async () => {
    const params = simParams("default");
    const sim = await startSimServer({ ...params, engine: { ...params.engine, kvCacheTokens: 9000 } });
    try {
      const p = long(1);
      await timed(sim.baseUrl, p);
      await timed(sim.baseUrl, long(2)); // 4,000 other tokens: p's blocks no longer fit beside them
      const evicted = await timed(sim.baseUrl, p);
      const cached = await timed(sim.baseUrl, p); // and now it is cached again
      assert.ok(evicted > cached + 40, `evicted ${evicted.toFixed(1)} ms vs cached ${cached.toFixed(1)} ms`);
    } finally {
      await sim.close();
    }
  });

  it("serves /tokenize as vLLM and llama.cpp shape it", async () => {
    const sim = await startSimServer(simParams("fast"));
    try {
      const ask = async (body: unknown) =>
        (await (
          await fetch(`${sim.origin}/tokenize`, { method: "POST", body: JSON.stringify(body) })
        ).json()) as {
          count: number;
          tokens: number[];
        };
      assert.equal((await ask({ model: "streamslo-sim", prompt: "one two three" })).count, 3);
      assert.equal((await ask({ content: "one two three four" })).tokens.length, 4);
      const chat = await ask({ messages: [{ role: "user", content: "one two" }] });
      assert.ok(chat.count > 2, "the chat template's tokens count too");
      const bad = await fetch(`${sim.origin}/tokenize`, { method: "POST", body: "{" });
      assert.equal(bad.status, 400);
    } finally {
      await sim.close();
    }
  });
});
