import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ArrivalSpec, arrivalTimes } from "../../src/core/arrivals.js";
import { createRng } from "../../src/core/rng.js";

function gaps(spec: ArrivalSpec, n: number, seed = 11): number[] {
  const it = arrivalTimes(spec, createRng(seed));
  let prev = it.next().value as number;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = it.next().value as number;
    out.push((t - prev) / 1000);
    prev = t;
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cv = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) / m;
};

/** Kolmogorov-Smirnov statistic of a sample against a CDF. */
function ks(xs: number[], cdf: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs((i + 1) / s.length - f));
  });
  return d;
}

describe("arrival processes (seeded statistical tests)", () => {
  const base = { burstiness: 1, rampUpS: 0 };
  const N = 5000;

  it("constant arrivals are exactly 1/rate apart", () => {
    for (const g of gaps({ ...base, process: "constant", rate: 8 }, 100))
      assert.ok(Math.abs(g - 0.125) < 1e-9);
  });

  it("Poisson gaps are exponential: KS distance below the 1% critical value", () => {
    const rate = 5;
    const xs = gaps({ ...base, process: "poisson", rate }, N);
    const d = ks(xs, (x) => 1 - Math.exp(-rate * x));
    assert.ok(d < 1.63 / Math.sqrt(N), `KS D = ${d}`);
    assert.ok(Math.abs(mean(xs) - 1 / rate) < 0.03 / rate);
  });

  it("gamma gaps keep the mean 1/rate with a coefficient of variation 1/sqrt(burstiness)", () => {
    for (const b of [0.5, 1, 4]) {
      const xs = gaps({ ...base, process: "gamma", rate: 10, burstiness: b }, N);
      assert.ok(Math.abs(mean(xs) - 0.1) < 0.004, `burstiness ${b}: mean ${mean(xs)}`);
      const want = 1 / Math.sqrt(b);
      assert.ok(Math.abs(cv(xs) - want) < 0.06 * want + 0.02, `burstiness ${b}: CV ${cv(xs)} vs ${want}`);
    }
  });

  it("a linear ramp-up sends about a quarter of its requests in the first half of the ramp", () => {
    const it = arrivalTimes({ process: "constant", rate: 100, burstiness: 1, rampUpS: 10 }, createRng(1));
    let first = 0;
    let total = 0;
    for (;;) {
      const t = it.next().value as number;
      if (t >= 10_000) break;
      total++;
      if (t < 5_000) first++;
    }
    // Integral of a linear ramp: 500 requests over 10 s, 125 of them in the first 5 s.
    assert.ok(Math.abs(total - 500) < 15, `total ${total}`);
    assert.ok(Math.abs(first / total - 0.25) < 0.03, `first half ${first}/${total}`);
  });

  it("a ramp starts at once and climbs as rate * t / T, for a slow rate and a bursty process too", () => {
    const count = (spec: ArrivalSpec, seed: number, untilMs: number) => {
      const it = arrivalTimes(spec, createRng(seed));
      let n = 0;
      while ((it.next().value as number) < untilMs) n++;
      return n;
    };
    // Constant 10/s over a 10 s ramp: L(t) = t^2 / 2, so 8 sends before 4 s (the first at 0), 50 before 10 s.
    const constant: ArrivalSpec = { process: "constant", rate: 10, burstiness: 1, rampUpS: 10 };
    assert.equal(count(constant, 1, 4000), 8);
    assert.equal(count(constant, 1, 10_000), 50);
    // Poisson 20/s over 10 s: 9 expected by 3 s, plus the one at 0; mean of 200 seeds.
    const poisson: ArrivalSpec = { process: "poisson", rate: 20, burstiness: 1, rampUpS: 10 };
    let sum = 0;
    for (let seed = 1; seed <= 200; seed++) sum += count(poisson, seed, 3000);
    assert.ok(Math.abs(sum / 200 - 10) < 0.6, `mean arrivals by 3 s: ${sum / 200}`);
  });

  it("is reproducible from the seed", () => {
    const spec: ArrivalSpec = { ...base, process: "poisson", rate: 3 };
    assert.deepEqual(gaps(spec, 20, 5), gaps(spec, 20, 5));
    assert.notDeepEqual(gaps(spec, 20, 5), gaps(spec, 20, 6));
  });
});
