import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { simParams } from "../../src/sim/presets.js";
import { type SimServer, startSimServer } from "../../src/sim/sim-server.js";
import { quickBench } from "../helpers/run-bench.js";

describe("simulator behaves like a continuous-batching server", () => {
  let sim: SimServer;
  before(async () => {
    // 4 slots, steps of 2 ms + 1 ms per sequence: queueing and batch cost show at small scale.
    sim = await startSimServer(
      simParams("fast", {
        engine: {
          maxRunning: 4,
          kvCacheTokens: 100_000,
          prefillBaseMs: 1,
          prefillMsPerToken: 0.01,
          decodeBaseMs: 2,
          decodeMsPerSeq: 1,
        },
      }),
    );
  });
  after(() => sim.close());

  it("TPOT rises with concurrency and TTFT with queueing beyond the slots", async () => {
    const b = await quickBench(sim.baseUrl, [1, 4, 16], 16, { maxTokens: 20 });
    const [c1, c4, c16] = [b.level(1), b.level(4), b.level(16)];
    assert.ok(c4.tpot_ms.p50 > c1.tpot_ms.p50 * 1.5, `TPOT c=1 ${c1.tpot_ms.p50}, c=4 ${c4.tpot_ms.p50}`);
    // At c=16 with 4 slots, most requests wait for whole generations before their first token.
    assert.ok(c16.ttft_ms.p50 > c4.ttft_ms.p50 * 3, `TTFT c=4 ${c4.ttft_ms.p50}, c=16 ${c16.ttft_ms.p50}`);
    for (const l of [c1, c4, c16]) assert.equal(l.ok, 16);
  });

  it("serves /v1/models, /health and vLLM-named metrics with model_name labels", async () => {
    const models = (await (await request(`${sim.baseUrl}/models`)).body.json()) as { data: { id: string }[] };
    assert.equal(models.data[0]?.id, "streamslo-sim");
    assert.equal((await request(`${sim.origin}/health`)).statusCode, 200);
    const text = await (await request(`${sim.origin}/metrics`)).body.text();
    for (const name of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:kv_cache_usage_perc",
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:inter_token_latency_seconds_bucket",
      "vllm:request_time_per_output_token_seconds_bucket",
      "vllm:e2e_request_latency_seconds_bucket",
      "vllm:request_queue_time_seconds_bucket",
      "vllm:prompt_tokens_total",
      "vllm:generation_tokens_total",
    ]) {
      assert.match(text, new RegExp(`^${name}\\{[^}]*model_name="streamslo-sim"`, "m"), name);
    }
  });

  it("observes each finished request's TPOT once, as vLLM does, near what the client measured", async () => {
    const text = await (await request(`${sim.origin}/metrics`)).body.text();
    const value = (series: string) =>
      Number(new RegExp(`^${series}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
    const tpot = "vllm:request_time_per_output_token_seconds";
    const count = value(`${tpot}_count`);
    assert.ok(count > 0, text);
    assert.equal(count, value("vllm:e2e_request_latency_seconds_count"));
    // The first test ran c=1, 4 and 16 with 20 tokens each: decode steps of a few ms, never 0 or seconds.
    const meanMs = (value(`${tpot}_sum`) / count) * 1000;
    assert.ok(meanMs > 0.5 && meanMs < 200, `mean TPOT ${meanMs} ms`);
  });

  it("answers bad requests with OpenAI-style errors and keeps serving", async () => {
    const post = (body: string) =>
      request(`${sim.baseUrl}/chat/completions`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    const bad = await post("{nope");
    assert.equal(bad.statusCode, 400);
    assert.match(await bad.body.text(), /not valid JSON/);
    const wrongModel = await post('{"model":"other","messages":[{"role":"user","content":"x"}]}');
    assert.equal(wrongModel.statusCode, 404);
    await wrongModel.body.dump();
    const noMessages = await post('{"max_tokens":-1}');
    assert.equal(noMessages.statusCode, 400);
    await noMessages.body.dump();
    const missing = await request(`${sim.origin}/nope`);
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
    const ok = await post('{"messages":[{"role":"user","content":"x"}],"max_tokens":3}');
    const body = (await ok.body.json()) as {
      choices: { message: { content: string } }[];
      usage: { completion_tokens: number };
    };
    assert.equal(ok.statusCode, 200);
    assert.equal(body.usage.completion_tokens <= 3, true);
    assert.ok(body.choices[0]?.message.content.length);
  });

  it("blocks admission when the KV cache is full", async () => {
    const small = await startSimServer(
      simParams("fast", {
        engine: {
          maxRunning: 8,
          kvCacheTokens: 60,
          prefillBaseMs: 0,
          prefillMsPerToken: 0,
          decodeBaseMs: 2,
          decodeMsPerSeq: 0,
        },
      }),
    );
    try {
      // Each request reserves about 10 prompt + 20 output tokens: two fit, the rest wait.
      const b = await quickBench(small.baseUrl, [6], 6, { maxTokens: 20 });
      const l = b.level(6);
      assert.equal(l.ok, 6);
      assert.ok(l.ttft_ms.max > 80, `the last requests waited for KV space: max TTFT ${l.ttft_ms.max}`);
      assert.ok(l.ttft_ms.min < 20, `the first ones did not: min TTFT ${l.ttft_ms.min}`);
      const tooBig = await request(`${small.baseUrl}/completions`, {
        method: "POST",
        body: JSON.stringify({ prompt: "x", max_tokens: 100 }),
      });
      assert.equal(tooBig.statusCode, 400);
      await tooBig.body.dump();
    } finally {
      await small.close();
    }
  });
});

describe("simulator faults are counted with the right cause", () => {
  it("5xx, drops, in-band errors and stalls; sent = ok + error + incomplete", async () => {
    const sim = await startSimServer(
      simParams("fast", {
        seed: 7,
        faults: {
          http5xxRate: 0.1,
          dropRate: 0.1,
          stallRate: 0.2,
          stallMs: 60,
          slowFirstByteRate: 0.1,
          slowFirstByteMs: 50,
          inbandErrorRate: 0.1,
        },
      }),
    );
    try {
      const b = await quickBench(sim.baseUrl, [8], 120, { maxTokens: 16 });
      const l = b.level(8);
      assert.equal(l.n, 120);
      assert.equal(l.n, l.ok + l.error + l.incomplete);
      assert.equal(b.records.filter((r) => r.phase === "measure").length, 120);
      const codes = l.errors_by_code;
      assert.ok((codes.http_503 ?? 0) > 0, JSON.stringify(codes));
      assert.ok((codes.stream_reset ?? 0) > 0, JSON.stringify(codes));
      assert.ok((codes.stream_error ?? 0) > 0, JSON.stringify(codes));
      assert.equal(l.incomplete, codes.stream_reset);
      // Stalls show up as ITL outliers of about stallMs.
      assert.ok(l.itl_chunk_ms.max >= 50, `max ITL ${l.itl_chunk_ms.max}`);
    } finally {
      await sim.close();
    }
  });
});
