import type { CapacityResult } from "../load/capacity-search.js";

const unit = (mode: CapacityResult["mode"]) => (mode === "rate" ? "req/s" : "concurrent requests");
const fmt = (x: number) => Number(x.toPrecision(4)).toString();

/** The capacity search's answer, with every load it tried. */
export function capacityText(c: CapacityResult): string {
  const lines: string[] = [];
  if (c.capacity === undefined) {
    lines.push(
      `capacity at SLO: none: the first load tried (${fmt(c.trials[0]?.load ?? 0)} ${unit(c.mode)}) already fails`,
    );
  } else {
    const bound = c.failedAt !== undefined ? ` (fails at ${fmt(c.failedAt)})` : " (the highest load tried)";
    lines.push(`capacity at SLO: ${fmt(c.capacity)} ${unit(c.mode)}${bound}`);
  }
  const why = {
    converged: "search converged",
    budget:
      c.failedAt !== undefined
        ? "time budget used up: the answer lies between the capacity and the failing load"
        : "time budget used up before any load failed: the capacity is at least this",
    max: "every load up to --capacity-max passed",
    "first-load-failed": "lower --capacity-start to search below it",
    stopped: "the run was stopped",
  }[c.ending];
  lines.push(`  ${why}; loads tried:`);
  for (const t of c.trials) {
    const failed = t.result.objectives.filter((o) => !o.pass).map((o) => o.objective);
    const note = t.pass
      ? "pass"
      : `FAIL${failed.length ? ` (${failed.join("; ")})` : t.result.validity.valid ? "" : " (invalid run)"}`;
    lines.push(
      `  ${fmt(t.load).padStart(8)} ${note}${t.repeated ? ", measured twice (near a threshold)" : ""}`,
    );
  }
  return lines.join("\n");
}
