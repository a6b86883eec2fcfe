import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";

/**
 * Waits until `now()` reaches `at` (ms). Timers alone fire up to a few ms late, which an open loop
 * would report as send lag it caused itself; so it sleeps to just short of the deadline, then
 * waits out the rest. While `idle()` holds (no request in flight: nothing to time-stamp), it
 * holds the thread for that last stretch; otherwise it yields turn by turn, so I/O runs and each
 * response is timed as it arrives.
 */
export async function sleepUntil(now: () => number, at: number, idle: () => boolean): Promise<void> {
  const ahead = at - now();
  if (ahead > 2) await sleep(ahead - 1.5);
  if (idle()) {
    // At most the 1.5 ms above: each yielded turn went through the whole event loop, and at low
    // rates one slow turn in a hundred put the send-lag p99 near 1 ms.
    while (now() < at) {
      // busy-wait
    }
    return;
  }
  while (now() < at) await nextTurn();
}
