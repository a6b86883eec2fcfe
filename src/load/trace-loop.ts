import type { RequestInput } from "../core/workload.js";
import type { LoopIo } from "./load-loop.js";
import { sleepUntil } from "./pacing.js";

/** A row to send: its offset on the replayed timeline (ms from the first row) and what it asks. */
export interface TimedRequest {
  atMs: number;
  input: RequestInput;
}

/**
 * Trace replay: each row leaves at its recorded offset divided by `speed`, whatever the endpoint is
 * doing (open loop, so slowness shows as latency, with each record's intended send time kept). Rows
 * come from an async iterator, read as they are due, so a long trace keeps memory flat.
 */
export async function runTraceLoop(
  rows: AsyncIterable<TimedRequest>,
  speed: number,
  io: LoopIo,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const t0 = io.now();
  for await (const row of rows) {
    if (io.stop.aborted) break;
    const at = t0 + row.atMs / speed;
    await sleepUntil(io.now, at, () => inFlight.size === 0);
    if (io.stop.aborted) break;
    const p: Promise<void> = io.send("measure", at, io.stop, row.input).then((rec) => {
      inFlight.delete(p);
      io.onRecord(rec);
    });
    inFlight.add(p);
  }
  while (inFlight.size > 0) await Promise.race(inFlight);
}
