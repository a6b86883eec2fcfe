import type { Rng } from "./rng.js";

/** How request send times are spaced in an open loop. */
export type ArrivalProcess = "constant" | "poisson" | "gamma";

export interface ArrivalSpec {
  process: ArrivalProcess;
  /** Mean requests per second once ramped up. */
  rate: number;
  /** Gamma shape; 1 is Poisson, below 1 burstier, above 1 smoother (vLLM's --burstiness). */
  burstiness: number;
  /** Seconds over which the rate climbs linearly from 0 to `rate`. */
  rampUpS: number;
}

/** A standard normal draw (Box-Muller). */
export function normal(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * A Gamma(shape, 1) draw: Marsaglia and Tsang, "A simple method for generating gamma variables"
 * (ACM TOMS 2000), with the usual boost for shape < 1.
 */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * (1 - rng()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** One inter-arrival gap in seconds for a steady rate. */
export function interArrivalS(spec: ArrivalSpec, rng: Rng, rate: number): number {
  switch (spec.process) {
    case "constant":
      return 1 / rate;
    case "poisson":
      return -Math.log(1 - rng()) / rate;
    case "gamma":
      // Mean 1/rate: Gamma(shape k, scale 1/(k*rate)).
      return gamma(rng, spec.burstiness) / (spec.burstiness * rate);
  }
}

/**
 * Intended send times in ms from the level's start, generated lazily. During a ramp-up the
 * gap is drawn at the rate reached at the current time, so the rate climbs linearly.
 */
export function* arrivalTimes(spec: ArrivalSpec, rng: Rng): Generator<number> {
  let t = 0;
  const floor = spec.rate / 100; // a ramp starts at 1% so the first gap is finite
  for (;;) {
    yield t * 1000;
    const ramp =
      spec.rampUpS > 0 && t < spec.rampUpS ? Math.max(floor, (spec.rate * t) / spec.rampUpS) : spec.rate;
    t += interArrivalS(spec, rng, ramp);
  }
}
