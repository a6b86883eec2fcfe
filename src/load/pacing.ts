import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";

/**
 * Waits until `now()` reaches `at` (ms). Timers alone fire up to a few ms late, which an open loop
 * would report as send lag it caused itself; so it sleeps to just short of the deadline, then
 * yields turn by turn (letting I/O run) until the deadline.
 */
export async function sleepUntil(now: () => number, at: number): Promise<void> {
  const ahead = at - now();
  if (ahead > 2) await sleep(ahead - 1.5);
  while (now() < at) await nextTurn();
}
