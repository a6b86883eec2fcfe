import { type ArrivalSpec, arrivalTimes } from "../core/arrivals.js";
import type { Phase } from "../core/record.js";
import { createRng } from "../core/rng.js";
import { type LoopBounds, type LoopIo, PhaseTracker, signalFor } from "./load-loop.js";
import { sleepUntil } from "./pacing.js";

export interface OpenLoopOptions {
  arrivals: ArrivalSpec;
  seed: number;
  /** Requests beyond this many in flight wait in a client-side queue (their intended time stands). */
  maxConcurrency?: number;
}

/**
 * Open loop: requests leave on a schedule drawn in advance, whatever the endpoint is doing, so
 * slowness shows up as latency instead of as less load (no coordinated omission). Each record
 * keeps its intended send time; when --max-concurrency holds a request back, the wait counts.
 */
export async function runOpenLoop<R>(o: OpenLoopOptions, bounds: LoopBounds, io: LoopIo<R>): Promise<void> {
  const tracker = new PhaseTracker(bounds);
  const times = arrivalTimes(o.arrivals, createRng(o.seed));
  const inFlight = new Set<Promise<void>>();
  const queue: { phase: Phase; at: number }[] = [];
  const t0 = io.now();

  const launch = (phase: Phase, at: number) => {
    const p = io.send(phase, at, signalFor(phase, io.stop, tracker)).then((rec) => {
      inFlight.delete(p);
      tracker.done(phase);
      io.onRecord(rec);
      const next = queue.shift();
      if (next && !io.stop.aborted && !(next.phase === "cooldown" && tracker.finished))
        launch(next.phase, next.at);
    });
    inFlight.add(p);
  };

  while (!io.stop.aborted && !tracker.cooldown.signal.aborted) {
    const at = t0 + (times.next().value as number);
    const phase = tracker.next(at);
    if (phase === undefined) break;
    await sleepUntil(io.now, at, () => inFlight.size === 0);
    if (io.stop.aborted || (phase === "cooldown" && tracker.finished)) break;
    if (o.maxConcurrency !== undefined && inFlight.size >= o.maxConcurrency) queue.push({ phase, at });
    else launch(phase, at);
  }
  // Measured requests still queued or in flight finish; the loop above only stops new ones.
  while (inFlight.size > 0) await Promise.race(inFlight);
}
