import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { parsePrometheusText } from "../../src/core/prometheus-text.js";
import {
  detectFamily,
  modelNames,
  readSnapshot,
  type ServerFamily,
  type ServerSnapshot,
  snapshotFromSamples,
} from "../../src/core/server-families.js";
import { diffHistogram, histogramQuantile, serverMetricsDelta } from "../../src/core/server-metrics-delta.js";
import { firstChunkCaveat } from "../../src/core/server-view.js";
import { simParams } from "../../src/sim/presets.js";
import { startSimServer } from "../../src/sim/sim-server.js";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../test/fixtures/metrics/${name}`, import.meta.url)), "utf8");

function snapshot(file: string): ServerSnapshot {
  const read = readSnapshot(fixture(file));
  assert.ok(read, `${file}: family not detected`);
  return read.snapshot;
}

/** The fixture pair around one load level: <family>.prom before, <family>-after.prom after. */
function pair(family: ServerFamily): [ServerSnapshot, ServerSnapshot] {
  return [snapshot(`${family}.prom`), snapshot(`${family}-after.prom`)];
}

function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

function assertNoNaN(value: unknown, path = "delta"): void {
  if (typeof value === "number") assert.ok(!Number.isNaN(value), `${path} is NaN`);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) assertNoNaN(v, `${path}.${k}`);
  }
}

describe("server family detection", () => {
  it("recognises every fixture and nothing else", () => {
    for (const family of ["vllm", "sglang", "tgi", "llamacpp"] as const) {
      for (const file of [`${family}.prom`, `${family}-after.prom`]) {
        assert.equal(detectFamily(parsePrometheusText(fixture(file)).samples), family, file);
      }
    }
    const other = parsePrometheusText("process_cpu_seconds_total 1\ngo_goroutines 12\n");
    assert.equal(detectFamily(other.samples), undefined);
    assert.equal(readSnapshot("go_goroutines 12\n"), undefined);
  });

  it("falls back to older vLLM names", () => {
    const text = [
      'vllm:time_per_output_token_seconds_bucket{model_name="m",le="0.05"} 3',
      'vllm:time_per_output_token_seconds_bucket{model_name="m",le="+Inf"} 4',
      'vllm:time_per_output_token_seconds_sum{model_name="m"} 0.3',
      'vllm:time_per_output_token_seconds_count{model_name="m"} 4',
      'vllm:gpu_cache_usage_perc{model_name="m"} 0.25',
    ].join("\n");
    const snap = readSnapshot(text)?.snapshot;
    assert.equal(snap?.histograms.itl?.metric, "vllm:time_per_output_token_seconds");
    assert.equal(snap?.histograms.itl?.count, 4);
    assert.equal(snap?.gauges.kv_usage, 0.25);
  });
});

describe("model_name filtering", () => {
  const text = [
    'vllm:num_requests_running{model_name="a"} 2',
    'vllm:num_requests_running{model_name="b"} 5',
    'vllm:kv_cache_usage_perc{model_name="a"} 0.2',
    'vllm:kv_cache_usage_perc{model_name="b"} 0.6',
    'vllm:time_to_first_token_seconds_bucket{model_name="a",le="0.1"} 1',
    'vllm:time_to_first_token_seconds_bucket{model_name="a",le="1.0"} 3',
    'vllm:time_to_first_token_seconds_bucket{model_name="a",le="+Inf"} 3',
    'vllm:time_to_first_token_seconds_sum{model_name="a"} 1.2',
    'vllm:time_to_first_token_seconds_count{model_name="a"} 3',
    'vllm:time_to_first_token_seconds_bucket{model_name="b",le="0.1"} 0',
    'vllm:time_to_first_token_seconds_bucket{model_name="b",le="1.0"} 1',
    'vllm:time_to_first_token_seconds_bucket{model_name="b",le="+Inf"} 2',
    'vllm:time_to_first_token_seconds_sum{model_name="b"} 4.5',
    'vllm:time_to_first_token_seconds_count{model_name="b"} 2',
  ].join("\n");
  const { samples } = parsePrometheusText(text);

  it("sums label sets by default (usage fractions are averaged)", () => {
    assert.deepEqual(modelNames(samples), ["a", "b"]);
    const all = snapshotFromSamples(samples, "vllm");
    assert.equal(all.gauges.running, 7);
    near(all.gauges.kv_usage, 0.4, "kv mean of 0.2 and 0.6");
    assert.deepEqual(all.histograms.ttft, {
      metric: "vllm:time_to_first_token_seconds",
      buckets: [
        { le: 0.1, count: 1 },
        { le: 1, count: 4 },
        { le: Number.POSITIVE_INFINITY, count: 5 },
      ],
      sum: 5.7,
      count: 5,
    });
  });

  it("keeps one model when asked", () => {
    const a = snapshotFromSamples(samples, "vllm", { modelName: "a" });
    assert.equal(a.gauges.running, 2);
    assert.equal(a.gauges.kv_usage, 0.2);
    assert.equal(a.histograms.ttft?.count, 3);
    assert.equal(a.histograms.ttft?.sum, 1.2);
    const none = snapshotFromSamples(samples, "vllm", { modelName: "c" });
    assert.deepEqual(none, { family: "vllm", histograms: {}, gauges: {}, counters: {} });
  });
});

describe("histogramQuantile", () => {
  const inf = Number.POSITIVE_INFINITY;
  it("interpolates linearly inside the bucket, from 0 below the first bound", () => {
    // rank 0.5*10 = 5 of 10 in [0, 1] -> 0 + 1 * 5/10
    assert.equal(
      histogramQuantile(0.5, [
        { le: 1, count: 10 },
        { le: inf, count: 10 },
      ]),
      0.5,
    );
  });

  it("answers the highest finite bound when the rank is in +Inf, and a bound <= 0 as is", () => {
    const b = [
      { le: 0.1, count: 1 },
      { le: 0.5, count: 2 },
      { le: inf, count: 10 },
    ];
    assert.equal(histogramQuantile(0.9, b), 0.5);
    const zeroFirst = [
      { le: 0, count: 3 },
      { le: 0.1, count: 4 },
      { le: inf, count: 4 },
    ];
    assert.equal(histogramQuantile(0.5, zeroFirst), 0);
  });

  it("forces monotonic counts and answers undefined where Prometheus answers NaN", () => {
    // [5, 4, 6] -> [5, 5, 6]; rank 3 in [0, 1] -> 3/5
    const bumpy = [
      { le: 1, count: 5 },
      { le: 2, count: 4 },
      { le: inf, count: 6 },
    ];
    assert.equal(histogramQuantile(0.5, bumpy), 0.6);
    assert.equal(histogramQuantile(0.5, []), undefined);
    assert.equal(histogramQuantile(0.5, [{ le: 1, count: 5 }]), undefined); // no +Inf bucket
    assert.equal(
      histogramQuantile(0.5, [
        { le: 1, count: 0 },
        { le: inf, count: 0 },
      ]),
      undefined,
    );
    assert.equal(histogramQuantile(1.5, bumpy), undefined);
    assert.equal(histogramQuantile(0, bumpy), 0);
  });
});

describe("serverMetricsDelta", () => {
  it("vLLM: mean and percentiles of the interval, computed by hand", () => {
    const [before, after] = pair("vllm");
    const d = serverMetricsDelta(before, after);
    // TTFT: 20 requests in the interval. Bucket deltas (cumulative): <=0.06: 0, <=0.08: 2, <=0.1: 6,
    // <=0.25: 16, <=0.5: 19, <=0.75: 20. Their sum: 0.07+0.075 + 0.085+0.09+0.095+0.1 +
    // (0.12+...+0.21 = 1.65) + 0.3+0.35+0.4 + 0.6 = 3.815 s -> mean 3.815 / 20 = 190.75 ms.
    assert.equal(d.ttft?.count, 20);
    assert.equal(d.ttft?.metric, "vllm:time_to_first_token_seconds");
    near(d.ttft?.mean_ms, 190.75, "ttft mean");
    // p50: rank 10 in (0.1, 0.25] holding 16-6 = 10 -> 0.1 + 0.15 * (10-6)/10 = 0.16 s
    near(d.ttft?.p50_ms, 160, "ttft p50");
    // p90: rank 18 in (0.25, 0.5] holding 3 -> 0.25 + 0.25 * (18-16)/3 = 0.41667 s
    near(d.ttft?.p90_ms, 250 + 250 * (2 / 3), "ttft p90");
    // p95: rank 19 -> 0.25 + 0.25 * 3/3 = 0.5 s
    near(d.ttft?.p95_ms, 500, "ttft p95");
    // p99: rank 19.8 in (0.5, 0.75] holding 1 -> 0.5 + 0.25 * 0.8/1 = 0.7 s
    near(d.ttft?.p99_ms, 700, "ttft p99");

    // Queue: 18 x 0.01 s (<=0.3) + 0.4 + 0.45 (<=0.5) = 1.03 s -> 51.5 ms. The bucket estimate of p50
    // is 0 + 0.3 * 10/18 = 0.1667 s: with wide buckets the percentiles say less than the mean.
    assert.equal(d.queue?.count, 20);
    near(d.queue?.mean_ms, 51.5, "queue mean");
    near(d.queue?.p50_ms, 300 * (10 / 18), "queue p50");
    // p99: rank 19.8 in (0.3, 0.5] holding 2 -> 0.3 + 0.2 * 1.8/2 = 0.48 s
    near(d.queue?.p99_ms, 480, "queue p99");

    // E2E: 16 x 4 s (<=5) + 6 + 6.5 + 7 + 9.5 (<=10) = 93 s -> 4650 ms;
    // p50: rank 10 in (2.5, 5] holding 16 -> 2.5 + 2.5 * 10/16 = 4.0625 s; p95: 5 + 5 * 3/4 = 8.75 s
    assert.equal(d.e2e?.count, 20);
    near(d.e2e?.mean_ms, 4650, "e2e mean");
    near(d.e2e?.p50_ms, 4062.5, "e2e p50");
    near(d.e2e?.p95_ms, 8750, "e2e p95");

    // ITL: one observation per generated token (4000), 4 to 94 ms each.
    assert.equal(d.itl?.count, 4000);
    const itl = d.itl?.mean_ms ?? 0;
    assert.ok(itl > 4 && itl < 94, `itl mean ${itl}`);
    assert.ok((d.itl?.p50_ms ?? 0) <= (d.itl?.p99_ms ?? 0));
  });

  it("gauge peaks and means over the readings", () => {
    const [before, after] = pair("vllm");
    const readings = [
      before.gauges,
      { running: 8, waiting: 2, kv_usage: 0.31 },
      { running: 12, waiting: 5, kv_usage: 0.52 },
      after.gauges, // running 3, waiting 0, kv 0.0421
    ];
    const d = serverMetricsDelta(before, after, readings);
    assert.deepEqual(d.running, { peak: 12, mean: (0 + 8 + 12 + 3) / 4, readings: 4 });
    assert.deepEqual(d.waiting, { peak: 5, mean: (0 + 2 + 5 + 0) / 4, readings: 4 });
    assert.equal(d.kv_usage?.peak, 0.52);
    near(d.kv_usage?.mean, (0 + 0.31 + 0.52 + 0.0421) / 4, "kv mean");
    assert.deepEqual(d.missing, {});
    const none = serverMetricsDelta(before, after, []);
    assert.equal(none.running, undefined);
    assert.match(none.missing.running ?? "", /no readings/);
  });

  it("SGLang: counts, ordered percentiles and gauges", () => {
    const [before, after] = pair("sglang");
    const d = serverMetricsDelta(before, after, [before.gauges, after.gauges]);
    for (const h of [d.ttft, d.queue, d.itl, d.e2e]) assert.ok(h?.metric.startsWith("sglang:"));
    assert.equal(d.ttft?.count, 64);
    assert.equal(d.queue?.count, 64);
    assert.equal(d.e2e?.count, 64);
    assert.equal(d.itl?.count, 12800);
    for (const h of [d.ttft, d.queue, d.itl, d.e2e]) {
      assert.ok(h?.p50_ms !== undefined && h.p99_ms !== undefined && h.p50_ms <= h.p99_ms);
    }
    assert.equal(d.running?.peak, 24);
    assert.equal(d.waiting?.peak, 6);
    assert.equal(d.kv_usage?.peak, 0.63);
    assertNoNaN(d);
  });

  it("TGI: no server TTFT, and says so", () => {
    const [before, after] = pair("tgi");
    const d = serverMetricsDelta(before, after, [before.gauges, after.gauges]);
    assert.equal(d.ttft, undefined);
    assert.match(d.missing.ttft ?? "", /no time-to-first-token histogram/);
    assert.equal(d.kv_usage, undefined);
    assert.match(d.missing.kv_usage ?? "", /KV-cache/);
    assert.equal(d.queue?.count, 25);
    assert.equal(d.e2e?.count, 25);
    assert.equal(d.itl?.metric, "tgi_request_mean_time_per_token_duration");
    assert.equal(d.itl?.count, 25);
    assert.deepEqual(d.running, { peak: 2, mean: 1, readings: 2 });
    assert.deepEqual(d.waiting, { peak: 1, mean: 0.5, readings: 2 });
    assertNoNaN(d);
  });

  it("llama.cpp: mean ms per generated and per prompt token from counters", () => {
    const [before, after] = pair("llamacpp");
    const d = serverMetricsDelta(before, after, [before.gauges, after.gauges]);
    // generated: (3.94603 - 1.89803) s / (3991 - 1943) tokens = 2.048 / 2048 -> 1 ms
    near(d.gen_ms_per_token, 1, "gen ms/token");
    // prompt: (1.219854 - 0.195854) s / (4644 - 548) tokens = 1.024 / 4096 -> 0.25 ms
    near(d.prompt_ms_per_token, 0.25, "prompt ms/token");
    assert.equal(d.ttft, undefined);
    assert.match(d.missing.ttft ?? "", /no latency histograms/);
    assert.deepEqual(d.running, { peak: 2, mean: 1, readings: 2 });
    assert.equal(d.kv_usage, undefined); // this llama.cpp build does not expose kv_cache_usage_ratio
    assertNoNaN(d);
  });

  it("treats a counter reset as an unusable interval", () => {
    const [vBefore, vAfter] = pair("vllm");
    const v = serverMetricsDelta(vAfter, vBefore); // counters went backwards, as after a restart
    for (const series of ["ttft", "queue", "itl", "e2e"] as const) {
      assert.equal(v[series], undefined);
      assert.match(v.missing[series] ?? "", /backwards/);
    }
    const [lBefore, lAfter] = pair("llamacpp");
    const l = serverMetricsDelta(lAfter, lBefore);
    assert.equal(l.gen_ms_per_token, undefined);
    assert.equal(l.prompt_ms_per_token, undefined);
    assert.match(l.missing.gen_ms_per_token ?? "", /backwards/);
    assertNoNaN(v);
    assertNoNaN(l);
  });

  it("counts a series born during the interval from zero, and refuses changed buckets", () => {
    const after = {
      metric: "m",
      buckets: [
        { le: 1, count: 2 },
        { le: Number.POSITIVE_INFINITY, count: 3 },
      ],
      sum: 3,
      count: 3,
    };
    assert.deepEqual(diffHistogram(undefined, after), {
      value: { metric: "m", count: 3, mean_ms: 1000, p50_ms: 750, p90_ms: 1000, p95_ms: 1000, p99_ms: 1000 },
    });
    const rebucketed = { ...after, buckets: [{ le: Number.POSITIVE_INFINITY, count: 1 }], count: 1, sum: 1 };
    assert.ok("unusable" in diffHistogram(rebucketed, after));
    const idle = diffHistogram(after, after);
    assert.deepEqual(idle, { value: { metric: "m", count: 0 } });
  });
});

describe("server metrics from the simulator", () => {
  it("counts one TTFT observation per request and a positive mean", async () => {
    const sim = await startSimServer(simParams("fast"));
    try {
      const scrape = async () => {
        const res = await request(`${sim.origin}/metrics`);
        const read = readSnapshot(await res.body.text());
        assert.ok(read, "simulator metrics not recognised");
        assert.equal(read.parsed.skipped, 0);
        return read.snapshot;
      };
      const before = await scrape();
      assert.equal(before.family, "vllm");
      const n = 4;
      for (let i = 0; i < n; i++) {
        const res = await request(`${sim.baseUrl}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 5 }),
        });
        assert.equal(res.statusCode, 200);
        await res.body.text();
      }
      const after = await scrape();
      const d = serverMetricsDelta(before, after, [before.gauges, after.gauges]);
      assert.equal(d.ttft?.count, n);
      assert.ok((d.ttft?.mean_ms ?? 0) > 0, `ttft mean ${d.ttft?.mean_ms}`);
      assert.equal(d.e2e?.count, n);
      assert.equal(d.queue?.count, n);
      assert.equal(d.running?.readings, 2);
      assertNoNaN(d);
    } finally {
      await sim.close();
    }
  });
});

describe("the client-minus-server TTFT gap", () => {
  it("is flagged when first chunks carried several tokens, and only then", () => {
    const view = (k: number | undefined) => ({ family: "vllm", names: {}, client_first_chunk_tokens: k });
    assert.match(firstChunkCaveat(view(3)), /first chunks carried 3 tokens on average/);
    assert.equal(firstChunkCaveat(view(1)), "");
    assert.equal(firstChunkCaveat(view(undefined)), "");
    assert.equal(firstChunkCaveat(undefined), "");
  });
});
