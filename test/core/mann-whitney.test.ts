import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { erfc, mannWhitneyU, normalCdf } from "../../src/core/mann-whitney.js";
import { createRng } from "../../src/core/rng.js";

/** Relative closeness, for values that span many orders of magnitude. */
function close(actual: number, expected: number, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} is not ${expected}`);
}

describe("erfc and the normal CDF", () => {
  it("match tabulated values, deep in the tails too", () => {
    close(erfc(0), 1);
    close(erfc(0.5), 0.4795001221869535);
    close(erfc(1), 0.1572992070502851);
    close(erfc(-1), 1.842700792949715);
    close(erfc(5), 1.5374597944280349e-12);
    close(normalCdf(-3), 0.0013498980316300946);
    close(normalCdf(1.959963984540054), 0.975);
    close(normalCdf(-8), 6.220960574271784e-16);
    assert.equal(erfc(40), 0);
    assert.ok(Number.isNaN(erfc(Number.NaN)));
  });
});

describe("Mann-Whitney U", () => {
  it("gives p = 1 for identical samples", () => {
    const x = [12, 15, 11, 19, 14, 13, 18, 16, 17, 10];
    const r = mannWhitneyU(x, [...x]);
    // Every value is tied once across the samples: U = n1 n2 / 2 = 50 exactly, and the continuity
    // correction takes the remaining distance (0) to 0.
    assert.equal(r.u, 50);
    assert.equal(r.z, 0);
    assert.equal(r.pValue, 1);
    assert.equal(r.effect, 0.5);
    assert.equal(r.tooSmall, false);
  });

  it("finds clearly shifted samples of 30 (p < 0.001)", () => {
    const x = Array.from({ length: 30 }, (_, i) => i + 1); // 1..30
    const y = Array.from({ length: 30 }, (_, i) => i + 31); // 31..60
    const r = mannWhitneyU(x, y);
    // No x beats any y: U = 0; E[U] = 450, Var[U] = 30 * 30 * 61 / 12 = 4575 (no ties),
    // z = -(450 - 0.5) / sqrt(4575) = -6.6456, p = erfc(6.6456 / sqrt 2) = 3.02e-11.
    assert.equal(r.u, 0);
    assert.equal(r.effect, 0);
    close(r.z, -449.5 / Math.sqrt(4575));
    close(r.pValue, 3.0198593591621e-11, 1e-9);
    assert.ok(r.pValue < 0.001);
    // Swapping the samples mirrors U and z; the two-sided p stays.
    const s = mannWhitneyU(y, x);
    assert.equal(s.u, 900);
    assert.equal(s.effect, 1);
    close(s.z, -r.z);
    close(s.pValue, r.pValue);
  });

  it("handles ties as worked by hand", () => {
    // x = 1, 2, 2, 4; y = 2, 3, 5. Pooled in order: 1x 2x 2x 2y 3y 4x 5y.
    // Ranks: 1 -> 1; the three 2s share ranks 2, 3, 4 -> 3 each; 3 -> 5; 4 -> 6; 5 -> 7.
    // R1 = 1 + 3 + 3 + 6 = 13, U = 13 - 4 * 5 / 2 = 3
    //   (by pairs: each x = 2 ties y = 2 (0.5 each), x = 4 beats 2 and 3: 0.5 + 0.5 + 2 = 3).
    // E[U] = 4 * 3 / 2 = 6; one tie group of t = 3: sum(t^3 - t) = 24, N = 7:
    // Var[U] = 12 / 12 * (8 - 24 / (7 * 6)) = 7.428571..., sd = 2.725541.
    // z = -(|3 - 6| - 0.5) / 2.725541 = -0.917249; p = 2 (1 - Phi(0.917249)) = 0.35901.
    const r = mannWhitneyU([1, 2, 2, 4], [2, 3, 5]);
    assert.equal(r.u, 3);
    assert.equal(r.effect, 0.25);
    close(r.z, -2.5 / Math.sqrt(8 - 24 / 42));
    close(r.z, -0.9172492321316785);
    close(r.pValue, 0.3590120537864295, 1e-10);
    assert.equal(r.n1, 4);
    assert.equal(r.n2, 3);
  });

  it("reports samples below 3 as too small, with p = 1", () => {
    const r = mannWhitneyU([1, 2], [5, 6, 7, 8]);
    assert.equal(r.tooSmall, true);
    assert.equal(r.pValue, 1);
    assert.equal(r.u, 0); // still counted: neither x beats a y
    const empty = mannWhitneyU([], [1, 2, 3]);
    assert.equal(empty.tooSmall, true);
    assert.equal(empty.pValue, 1);
    assert.ok(Number.isNaN(empty.effect));
  });

  it("drops non-finite values and survives samples that are all one value", () => {
    const r = mannWhitneyU([1, Number.NaN, 2, 3], [4, 5, Number.POSITIVE_INFINITY, 6]);
    assert.equal(r.n1, 3);
    assert.equal(r.n2, 3);
    const flat = mannWhitneyU([7, 7, 7], [7, 7, 7, 7]);
    assert.equal(flat.pValue, 1);
    assert.equal(flat.effect, 0.5);
  });

  it("holds its false-positive rate near alpha on same-distribution samples", () => {
    const rng = createRng(2024);
    const draw = () => Array.from({ length: 40 }, () => Math.round(-100 * Math.log(1 - rng()))); // skewed, tied
    let rejections = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) if (mannWhitneyU(draw(), draw()).pValue < 0.05) rejections++;
    const rate = rejections / trials;
    assert.ok(rate > 0.01 && rate < 0.09, `false-positive rate ${rate}`);
  });
});
