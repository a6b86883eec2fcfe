import { errorBudget, promDuration, WORKBOOK_WINDOWS } from "./burn-rate.js";
import type { ProductionSlo } from "./production-spec.js";

/** Every window the workbook alerts look at (5m, 30m, 1h, 2h, 6h, 1d, 3d), shortest first. */
export const LIVE_WINDOWS_MS: readonly number[] = [
  ...new Set(WORKBOOK_WINDOWS.flatMap((w) => [w.shortMs, w.longMs])),
].sort((a, b) => a - b);

/** Event counts are kept per slot of this length: the windows' resolution. */
const SLOT_MS = 10_000;

class SloCounts {
  readonly good: Float64Array;
  readonly total: Float64Array;
  /** The slot index each ring position last held, so stale positions read as empty. */
  readonly slotOf: Float64Array;
  allGood = 0;
  allTotal = 0;

  constructor(slots: number) {
    this.good = new Float64Array(slots);
    this.total = new Float64Array(slots);
    this.slotOf = new Float64Array(slots).fill(-1);
  }
}

/**
 * Burn rates and budget computed in the process from the events it sees, for a proxy that has no
 * Prometheus beside it (or to cross-check the recording rules). Memory is fixed: a ring of 10 s
 * slots covering the longest window (3 days: 25,920 slots, about 600 KB per SLO). The period's
 * budget counts events since the process started, the only history it has.
 */
export class LiveBurn {
  private readonly counts = new Map<string, SloCounts>();
  private readonly slots: number;

  constructor(
    readonly slos: readonly ProductionSlo[],
    readonly periodMs: number,
  ) {
    this.slots = Math.ceil((LIVE_WINDOWS_MS[LIVE_WINDOWS_MS.length - 1] as number) / SLOT_MS);
    for (const s of slos) this.counts.set(s.name, new SloCounts(this.slots));
  }

  record(slo: string, good: boolean, nowMs: number): void {
    this.recordCounts(slo, good ? 1 : 0, good ? 0 : 1, nowMs);
  }

  /** Several events at once: a request's token gaps, for an ITL SLI. */
  recordCounts(slo: string, good: number, bad: number, nowMs: number): void {
    const c = this.counts.get(slo);
    if (!c || good + bad === 0) return;
    const slot = Math.floor(nowMs / SLOT_MS);
    const at = slot % this.slots;
    if (c.slotOf[at] !== slot) {
      c.slotOf[at] = slot;
      c.good[at] = 0;
      c.total[at] = 0;
    }
    c.total[at] = (c.total[at] as number) + good + bad;
    c.allTotal += good + bad;
    c.good[at] = (c.good[at] as number) + good;
    c.allGood += good;
  }

  /** Error ratio over the window ending now / (1 - objective); 0 with no events in the window. */
  burnRate(slo: ProductionSlo, windowMs: number, nowMs: number): number {
    const c = this.counts.get(slo.name);
    if (!c) return 0;
    const last = Math.floor(nowMs / SLOT_MS);
    const first = last - Math.ceil(windowMs / SLOT_MS) + 1;
    let good = 0;
    let total = 0;
    for (let slot = Math.max(first, last - this.slots + 1); slot <= last; slot++) {
      const at = slot % this.slots;
      if (c.slotOf[at] !== slot) continue;
      good += c.good[at] as number;
      total += c.total[at] as number;
    }
    return total === 0 ? 0 : (1 - good / total) / errorBudget(slo.objective);
  }

  /** Share of the error budget left, from every event since the start (1 with none; < 0 when overspent). */
  budgetRemaining(slo: ProductionSlo): number {
    const c = this.counts.get(slo.name);
    if (!c || c.allTotal === 0) return 1;
    return 1 - (1 - c.allGood / c.allTotal) / errorBudget(slo.objective);
  }

  /** Burn rate per SLO and window, windows labelled like the rules (5m, 1h, ...). */
  burnRates(nowMs: number): { slo: string; window: string; value: number }[] {
    return this.slos.flatMap((s) =>
      LIVE_WINDOWS_MS.map((w) => ({
        slo: s.name,
        window: promDuration(w),
        value: this.burnRate(s, w, nowMs),
      })),
    );
  }
}
