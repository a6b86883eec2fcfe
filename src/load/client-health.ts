import { monitorEventLoopDelay } from "node:perf_hooks";

export interface ValidityLimits {
  /** Send lag p99 (actual - intended send) above this means the client could not keep the schedule. */
  maxSendLagMs: number;
  /** Event-loop delay p99 above this means timestamps may be late by as much. */
  maxLoopLagMs: number;
}

export const DEFAULT_VALIDITY: ValidityLimits = { maxSendLagMs: 10, maxLoopLagMs: 20 };

export interface Validity {
  valid: boolean;
  /** Why not, in words a user can act on. */
  reasons: string[];
  /** What the run should know that does not make the measurement wrong (the endpoint's doing, not the client's). */
  warnings: string[];
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  /** The client process's CPU time over wall time (1.0 = one core busy). */
  client_cpu: number;
  send_lag_p99_ms: number | null;
}

/**
 * Watches the client itself during a level: event-loop delay (perf_hooks histogram) and CPU. When
 * the client, not the endpoint, limits the result, the level is marked invalid. CPU is reported
 * but not judged: the open loop's pacing spins briefly before each send by design.
 */
export class ClientHealth {
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  constructor() {
    this.loop.enable();
  }

  /** `cap`: the open loop's --max-concurrency, whose queue (not the client) may hold requests back. */
  finish(sendLagP99Ms: number | null, limits: ValidityLimits, openLoop: boolean, cap?: number): Validity {
    this.loop.disable();
    const cpu = process.cpuUsage(this.cpu0);
    const wallUs = (performance.now() - this.t0) * 1000;
    // The histogram counts the timer's own resolution too; subtract it to get the lag.
    const lag = (ns: number) => Math.max(0, ns / 1e6 - 10);
    const v: Validity = {
      valid: true,
      reasons: [],
      warnings: [],
      loop_lag_p99_ms: lag(this.loop.percentile(99)),
      loop_lag_max_ms: lag(this.loop.max),
      client_cpu: wallUs > 0 ? (cpu.user + cpu.system) / wallUs : 0,
      send_lag_p99_ms: sendLagP99Ms,
    };
    if (v.loop_lag_p99_ms > limits.maxLoopLagMs) {
      v.reasons.push(
        `client event loop lagged ${v.loop_lag_p99_ms.toFixed(1)} ms at p99 (limit ${limits.maxLoopLagMs} ms): timings may be late by as much`,
      );
    }
    if (openLoop && sendLagP99Ms !== null && sendLagP99Ms > limits.maxSendLagMs) {
      const late = `requests left ${sendLagP99Ms.toFixed(1)} ms late at p99 (limit ${limits.maxSendLagMs} ms)`;
      // Waiting for a --max-concurrency slot is the endpoint not keeping up, measured as such (the wait
      // counts in queue-inclusive latency and goodput), not a client that fell behind: a warning.
      if (cap !== undefined && v.loop_lag_p99_ms <= limits.maxLoopLagMs)
        v.warnings.push(
          `${late}, waiting for one of the --max-concurrency ${cap} slots: the endpoint did not keep up with the offered rate at that cap (the wait counts in queue-inclusive latency and goodput)`,
        );
      else v.reasons.push(`${late}: the client could not keep the offered rate`);
    }
    v.valid = v.reasons.length === 0;
    return v;
  }
}
