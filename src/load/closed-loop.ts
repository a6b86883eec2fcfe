import type { Phase, RequestRecord } from "../core/record.js";

export interface ClosedLoopOptions {
  concurrency: number;
  /** Requests to measure. */
  n: number;
  /** Requests sent first at the same concurrency and left out of the statistics. */
  warmup: number;
  /** Sends one request; `phase` says whether it is measured. Must not reject. */
  send(phase: Phase, index: number): Promise<RequestRecord>;
  onRecord(rec: RequestRecord): void;
  /** Once aborted, no new request starts; in-flight ones finish (or are aborted by the sender). */
  signal?: AbortSignal;
}

/** Runs `count` requests with at most `concurrency` in flight, each worker starting the next on completion. */
async function runPhase(
  o: ClosedLoopOptions,
  phase: Phase,
  count: number,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !o.signal?.aborted) {
      const index = next++;
      o.onRecord(await o.send(phase, index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Closed loop: a fixed number of users, each sending its next request when the last one ends. */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<void> {
  if (o.warmup > 0) await runPhase(o, "warmup", o.warmup, o.concurrency);
  await runPhase(o, "measure", o.n, o.concurrency);
}
