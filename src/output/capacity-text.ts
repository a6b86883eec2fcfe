import { type CapacityResult, invalidBound } from "../load/capacity-search.js";

const fmt = (x: number) => Number(x.toPrecision(4)).toString();
/** "2 req/s", "1 concurrent request", "4 concurrent requests". */
const load = (mode: CapacityResult["mode"], x: number) =>
  `${fmt(x)} ${mode === "rate" ? "req/s" : `concurrent request${x === 1 ? "" : "s"}`}`;

function invalidWhy(t: CapacityResult["trials"][number]): string {
  return t.result.validity.reasons.join("; ") || "see its validity reasons";
}

/** The capacity search's answer, with every load it tried. */
export function capacityText(c: CapacityResult): string {
  const lines: string[] = [];
  const invalid = invalidBound(c);
  if (c.capacity === undefined) {
    const first = load(c.mode, c.trials[0]?.load ?? 0);
    lines.push(
      invalid
        ? `capacity at SLO: unknown: the first load tried (${first}) was not a valid measurement (${invalidWhy(invalid)}); the client limited it, so this is no SLO verdict`
        : `capacity at SLO: none: the first load tried (${first}) already fails`,
    );
  } else {
    const bound =
      c.failedAt === undefined
        ? " (the highest load tried)"
        : invalid
          ? ` (the load above, ${fmt(c.failedAt)}, was not a valid measurement (${invalidWhy(invalid)}): the capacity may be higher)`
          : ` (fails at ${fmt(c.failedAt)})`;
    lines.push(`capacity at SLO: ${load(c.mode, c.capacity)}${bound}`);
  }
  const why = {
    converged: "search converged",
    budget:
      c.failedAt !== undefined
        ? "time budget used up: the answer lies between the capacity and the failing load"
        : "time budget used up before any load failed: the capacity is at least this",
    max: "every load up to --capacity-max passed",
    "first-load-failed":
      c.mode === "concurrency" && (c.trials[0]?.load ?? 1) <= 1
        ? "even one stream at a time fails: no concurrency meets the SLO"
        : `lower --capacity-start (it was ${fmt(c.trials[0]?.load ?? 0)}) to search below it`,
    stopped: "the run was stopped",
  }[c.ending];
  const said =
    invalid && c.capacity === undefined ? "no verdict: measure again on a client with room to spare" : why;
  lines.push(`  ${said}; loads tried:`);
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
