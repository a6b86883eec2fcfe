import type { Command } from "commander";
import { UsageError } from "./exit-codes.js";

/** Options (by attribute name) that act only with another option, or only without one. */
interface Rule {
  options: string[];
  needs?: string;
  without?: string;
}

/** Given alone, these options would be ignored in silence, and the user would think they took. */
const RULES: Record<string, Rule[]> = {
  bench: [
    {
      options: ["capacityMode", "capacityStart", "capacityMax", "capacityTolerance", "capacityBudget"],
      needs: "findCapacity",
    },
    { options: ["sweepLevels", "sweepMaxConcurrency"], needs: "sweep" },
  ],
  budget: [
    { options: ["range", "step"], needs: "prometheus" },
    { options: ["timeScale"], without: "prometheus" },
  ],
  report: [{ options: ["timeScale"], needs: "slo" }],
};

const given = (cmd: Command, key: string) => {
  const source = cmd.getOptionValueSource(key);
  return source === "cli" || source === "env";
};

const flag = (cmd: Command, key: string) =>
  cmd.options.find((o) => o.attributeName() === key)?.long ?? `--${key}`;

/** Refuses, before anything runs, an option that the rest of the command line makes idle. */
export function refuseIdleOptions(cmd: Command): void {
  for (const rule of RULES[cmd.name()] ?? []) {
    const idle = rule.options.filter((o) => given(cmd, o));
    if (idle.length === 0) continue;
    const names = idle.map((o) => flag(cmd, o)).join(", ");
    const drop = idle.length === 1 ? "it" : "them";
    if (rule.needs !== undefined && !given(cmd, rule.needs)) {
      const act = idle.length === 1 ? "acts" : "act";
      throw new UsageError(`${names} ${act} only with ${flag(cmd, rule.needs)}: add it, or drop ${drop}`);
    }
    if (rule.without !== undefined && given(cmd, rule.without)) {
      const apply = idle.length === 1 ? "applies" : "apply";
      throw new UsageError(
        `${names} ${apply} to a run folder, not to ${flag(cmd, rule.without)}: drop ${drop}`,
      );
    }
  }
}
