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
 * Intended send times in ms from the level's start, generated lazily. A ramp-up is a time change
 * (Cinlar's method for a nonhomogeneous process): the gaps are drawn at unit rate, in "work" s, and
 * s maps to the time t at which the cumulative intensity L(t) = rate * t^2 / (2T) (t <= T), then
 * rate * (T/2 + t - T), reaches s. So the expected arrivals by t are exactly L(t): a linear ramp
 * from 0 to the rate, with the process's own burstiness. (Drawing each gap at the rate reached so
 * far, as this once did, waits 1/rate-floor seconds for the first gap: no ramp at all.)
 */
export function* arrivalTimes(spec: ArrivalSpec, rng: Rng): Generator<number> {
  const ramp = spec.rampUpS;
  const rampWork = (spec.rate * ramp) / 2; // L(T)
  let s = 0;
  for (;;) {
    const t =
      ramp > 0 && s < rampWork ? Math.sqrt((2 * ramp * s) / spec.rate) : ramp + (s - rampWork) / spec.rate;
    yield t * 1000;
    s += interArrivalS(spec, rng, 1);
  }
}
