import { cpus } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";

/** The longest single event-loop stall that passes unremarked: a longer one delays every timestamp then. */
export const LOOP_STALL_NOTE_MS = 100;
/** Above this share of the machine's CPU time busy over a level, the client and its neighbours competed for it. */
export const HOST_BUSY_NOTE = 0.9;

/** Busy and total CPU time of every core of the machine so far (os.cpus), ms. */
function hostCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.irq + t.idle;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

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
  /**
   * What the run should know that does not by itself void the measurement: the endpoint's doing (a
   * --max-concurrency queue), a single long stall of the client, a machine whose CPUs were all busy.
   */
  warnings: string[];
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  /** The client process's CPU time over wall time (1.0 = one core busy). */
  client_cpu: number;
  /** The share of the whole machine's CPU time that was busy over the level (every process), 0..1. */
  host_cpu_busy: number | null;
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
  private readonly host0 = hostCpu();
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
      host_cpu_busy: null,
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
    const host = hostCpu();
    const hostTotal = host.total - this.host0.total;
    if (hostTotal > 0) v.host_cpu_busy = (host.busy - this.host0.busy) / hostTotal;
    // A p99 under its limit can hide one long stall: every request in flight then was timed late by it.
    if (v.loop_lag_max_ms > LOOP_STALL_NOTE_MS && v.loop_lag_p99_ms <= limits.maxLoopLagMs)
      v.warnings.push(
        `the client's event loop stalled once for ${v.loop_lag_max_ms.toFixed(0)} ms (p99 ${v.loop_lag_p99_ms.toFixed(1)} ms): requests in flight then were timed up to that much late`,
      );
    if (v.host_cpu_busy !== null && v.host_cpu_busy > HOST_BUSY_NOTE)
      v.warnings.push(
        `this machine's CPUs were ${(100 * v.host_cpu_busy).toFixed(0)}% busy over the level (the client itself used ${v.client_cpu.toFixed(2)} of a core): the client, and a server on the same host, competed for CPU, so figures may be slower than on an idle machine`,
      );
    v.valid = v.reasons.length === 0;
    return v;
  }
}
