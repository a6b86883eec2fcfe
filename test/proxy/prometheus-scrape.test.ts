import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  PROMETHEUS_BIN,
  type PrometheusProcess,
  startPrometheus,
  until,
} from "../helpers/prometheus-process.js";
import { type SimProxy, startSimProxy, streamMany } from "../helpers/sim-proxy.js";

const SENT = 40;
const BURST = 30;

/**
 * The proxy's metrics as a real Prometheus sees them: counts survive the scrape, histograms work
 * with histogram_quantile, and the peak gauge catches a burst that the plain gauge misses.
 */
describe("a real Prometheus scraping the proxy", () => {
  let stack: SimProxy;
  let prom: PrometheusProcess;

  before(async () => {
    assert.ok(
      existsSync(PROMETHEUS_BIN),
      `Prometheus at ${PROMETHEUS_BIN} (Debian package prometheus; .ci/run installs it)`,
    );
    stack = await startSimProxy();
    prom = await startPrometheus(new URL(stack.adminUrl).host);
  });

  after(async () => {
    await prom?.stop();
    await stack?.close();
  });

  /** Waits until `promql` evaluates to `want` (Prometheus only sees what a later scrape carried). */
  const settle = (promql: string, want: number) =>
    until(
      `${promql} == ${want}`,
      async () => ((await prom.query(promql)) === want ? true : undefined),
      10_000,
      200,
    );

  it("counts every request and answers histogram_quantile", async () => {
    // Two rounds with a scrape between them, so rate() has two different samples to work with.
    const first = await streamMany(stack.url, 10, 4, { maxTokens: 8 });
    await settle('sum(streamslo_requests_total{outcome="ok"})', 10);
    const rest = await streamMany(stack.url, SENT - 10, 4, { maxTokens: 8 });
    assert.deepEqual([...first, ...rest], Array(SENT).fill(200));
    await settle('sum(streamslo_requests_total{outcome="ok"})', SENT);
    await settle("sum(streamslo_ttft_seconds_count)", SENT);
    const p95 = await until("a finite p95", async () => {
      const v = await prom.query(
        "histogram_quantile(0.95, sum by (le) (rate(streamslo_ttft_seconds_bucket[1m])))",
      );
      return v !== undefined && Number.isFinite(v) ? v : undefined;
    });
    assert.ok(p95 > 0, `p95 TTFT ${p95}`);
  });

  it("the peak gauge shows a burst of short streams that the plain gauge misses", async () => {
    // Start right after a scrape, so the whole burst (well under the 1 s interval) falls between two.
    const seen = await prom.lastScrapeMs();
    const scrapedAt = await until(
      "a fresh scrape",
      async () => {
        const t = await prom.lastScrapeMs();
        return t !== undefined && t !== seen ? t : undefined;
      },
      5000,
      20,
    );
    const started = Date.now();
    // A long prompt makes the simulator's batched prefill take tens of ms, so the streams overlap;
    // each its own, or the prefix cache would skip the prefill of all but the first.
    const statuses = await streamMany(stack.url, BURST, BURST, {
      maxTokens: 2,
      prompt: "word ".repeat(1200),
      distinct: true,
    });
    const ended = Date.now();
    assert.deepEqual(statuses, Array(BURST).fill(200));
    const took = `the burst ran from ${started - scrapedAt} to ${ended - scrapedAt} ms after a scrape`;
    assert.ok(ended < scrapedAt + 1000, `${took}: it must end before the next one`);

    // Poll until a scrape after the burst shows it; if none does, the assertion below says what was seen.
    let peak: number | undefined;
    await until("the burst in the peak gauge", async () => {
      peak = await prom.query("max_over_time(streamslo_active_streams_peak[30s])");
      return peak !== undefined && peak >= 20 ? peak : undefined;
    }).catch(() => undefined);
    const plain = await prom.query("max_over_time(streamslo_active_streams[30s])");
    assert.ok(peak !== undefined && peak >= 20, `peak ${peak}; ${took}`);
    assert.ok(
      plain !== undefined && plain < 10,
      `the plain gauge should have missed the burst: ${plain}; ${took}`,
    );
  });
});
