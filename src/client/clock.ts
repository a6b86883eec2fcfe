import { performance } from "node:perf_hooks";

/** The run's monotonic clock: milliseconds since the run began, with microsecond resolution. */
export class Clock {
  readonly originMs = performance.now();
  /** Wall-clock time of the origin, for run.json. */
  readonly wallStart = new Date();

  now(): number {
    // Microsecond resolution is all the clock honestly has; rounding keeps records short.
    return Math.round((performance.now() - this.originMs) * 1000) / 1000;
  }
}
