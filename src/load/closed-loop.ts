import { type LoopBounds, type LoopIo, PhaseTracker, signalFor } from "./load-loop.js";

/** Closed loop: `concurrency` users, each sending its next request when its last one ends. */
export async function runClosedLoop<R>(
  concurrency: number,
  bounds: LoopBounds,
  io: LoopIo<R>,
): Promise<void> {
  const tracker = new PhaseTracker(bounds);
  const user = async () => {
    while (!io.stop.aborted) {
      const phase = tracker.next(io.now());
      if (phase === undefined) return;
      const rec = await io.send(phase, undefined, signalFor(phase, io.stop, tracker));
      tracker.done(phase);
      io.onRecord(rec);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, user));
}
