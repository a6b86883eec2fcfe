import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, Registry, type RegistryContentType } from "prom-client";
import { GapHistogram } from "../../src/proxy/gap-histogram.js";

const BOUNDS = [0.005, 0.01, 0.02, 0.05];

test("GapHistogram exposes what prom-client's Histogram shows for the same gaps", async () => {
  const labels = { service: "s", model: "m", route: "/v1/chat/completions" };
  const other = { ...labels, model: "other" };
  // Gaps of 0.005 (on a bound), 0.004, 0.05, 0.2 (above every bound) and 0.0125 seconds.
  const streams: [typeof labels, number[]][] = [
    [labels, [0, 5, 9, 59, 259]],
    [other, [100, 112.5]],
    [labels, [7]], // one chunk: no gap
  ];
  const exposition = async (feed: (r: Registry<RegistryContentType>) => void) => {
    const r = new Registry<RegistryContentType>();
    feed(r);
    return (await r.metrics()).split("\n").sort();
  };
  const ours = await exposition((r) => {
    const h = new GapHistogram("gap_seconds", "Gaps.", BOUNDS, r);
    for (const [l, t] of streams) h.observeGaps(l, t);
  });
  const theirs = await exposition((r) => {
    const h = new Histogram({
      name: "gap_seconds",
      help: "Gaps.",
      labelNames: Object.keys(labels),
      buckets: BOUNDS,
      registers: [r],
    });
    for (const [l, t] of streams)
      for (let i = 1; i < t.length; i++) h.observe(l, ((t[i] as number) - (t[i - 1] as number)) / 1000);
  });
  assert.deepEqual(ours, theirs);
});
