/**
 * Multi-window, multi-burn-rate alerting as in the Google SRE Workbook, "Alerting on SLOs"
 * (chapter 5): alert when the budget burns fast over a long window and is still burning over a
 * short one. Burn rate = error ratio / (1 - objective); a burn rate b over window w spends
 * b * w / period of the budget.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export interface AlertWindow {
  severity: "page" | "ticket";
  /** Long window: the budget share it must have spent. */
  longMs: number;
  /** Short window: the burn must still be on (usually long / 12). */
  shortMs: number;
  /** Share of the whole period's budget that the long window spends at the threshold burn rate. */
  budgetSpent: number;
}

/** The workbook's recommended set: page at 2% in 1h or 5% in 6h; ticket at 10% in 1d or 10% in 3d. */
export const WORKBOOK_WINDOWS: readonly AlertWindow[] = [
  { severity: "page", longMs: HOUR_MS, shortMs: 5 * MINUTE_MS, budgetSpent: 0.02 },
  { severity: "page", longMs: 6 * HOUR_MS, shortMs: 30 * MINUTE_MS, budgetSpent: 0.05 },
  { severity: "ticket", longMs: DAY_MS, shortMs: 2 * HOUR_MS, budgetSpent: 0.1 },
  { severity: "ticket", longMs: 3 * DAY_MS, shortMs: 6 * HOUR_MS, budgetSpent: 0.1 },
];

/** The burn rate at which `window` spends its budget share: 14.4 for 2% in 1h of 30 days. */
export function burnRateThreshold(w: AlertWindow, periodMs: number): number {
  return (w.budgetSpent * periodMs) / w.longMs;
}

/** Share of the period's budget spent by burning at `burnRate` for `durationMs`. */
export function budgetConsumed(burnRate: number, durationMs: number, periodMs: number): number {
  return (burnRate * durationMs) / periodMs;
}

/** How long until the budget is gone at a steady burn rate (Infinity when not burning). */
export function timeToExhaustionMs(remainingShare: number, burnRate: number, periodMs: number): number {
  if (burnRate <= 0) return Number.POSITIVE_INFINITY;
  return (Math.max(0, remainingShare) * periodMs) / burnRate;
}

export function errorBudget(objective: number): number {
  return 1 - objective;
}

/** Prometheus duration text for a window: 5m, 1h, 1d, 30d. */
export function promDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms)}ms`;
}
