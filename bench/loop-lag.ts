import { monitorEventLoopDelay } from "node:perf_hooks";

export interface LoopLag {
  loop_lag_p50_ms: number;
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
}

const RESOLUTION_MS = 1;

/**
 * Watches this process's event-loop delay from now until `stop()`. The histogram holds the whole
 * interval between timer ticks, so the tick itself (1 ms) is taken off to leave the lag.
 */
export function watchLoop(): { stop(): LoopLag } {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const lag = (ns: number) => Number(Math.max(0, ns / 1e6 - RESOLUTION_MS).toFixed(3));
  return {
    stop() {
      h.disable();
      return {
        loop_lag_p50_ms: lag(h.percentile(50)),
        loop_lag_p99_ms: lag(h.percentile(99)),
        loop_lag_max_ms: lag(h.max),
      };
    },
  };
}
