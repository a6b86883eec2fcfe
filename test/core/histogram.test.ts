import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Distribution } from "../../src/core/histogram.js";
import { createRng } from "../../src/core/rng.js";

function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

describe("Distribution", () => {
  const rng = createRng(42);
  const values = Array.from({ length: 5000 }, () => 5 + 400 * rng() ** 3);
  const sorted = [...values].sort((a, b) => a - b);

  it("matches exact percentiles to 3 significant digits and moments exactly", () => {
    const d = new Distribution();
    for (const v of values) d.record(v);
    const s = d.stats();
    for (const [p, got] of [
      [50, s.p50],
      [90, s.p90],
      [95, s.p95],
      [99, s.p99],
      [99.9, s.p99_9],
    ] as const) {
      const want = exactPercentile(sorted, p);
      assert.ok(Math.abs(got - want) <= want * 0.002 + 0.001, `p${p}: ${got} vs ${want}`);
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(s.mean - mean) < 1e-9);
    assert.equal(s.min, sorted[0]);
    assert.equal(s.max, sorted[sorted.length - 1]);
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    assert.ok(Math.abs(s.stddev - sd) < 1e-6);
  });

  it("merges exactly: two halves, serialised and read back, equal the whole", () => {
    const whole = new Distribution();
    const a = new Distribution();
    const b = new Distribution();
    values.forEach((v, i) => {
      whole.record(v);
      (i % 2 ? a : b).record(v);
    });
    const merged = Distribution.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.merge(Distribution.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))));
    const w = whole.stats();
    const m = merged.stats();
    assert.equal(m.count, w.count);
    assert.equal(m.p50, w.p50);
    assert.equal(m.p99, w.p99);
    assert.equal(m.min, w.min);
    assert.equal(m.max, w.max);
    assert.ok(Math.abs(m.mean - w.mean) < 1e-9);
  });

  it("reports NaN (JSON null) for an empty distribution and ignores negative or NaN samples", () => {
    const d = new Distribution();
    d.record(-1);
    d.record(Number.NaN);
    assert.equal(d.stats().count, 0);
    assert.equal(JSON.stringify(d.stats().p50), "null");
  });
});
