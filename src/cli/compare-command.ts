import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareRuns, workloadDifferences } from "../core/run-compare.js";
import { compareMarkdown, compareText } from "../output/compare-text.js";
import { RunReadError, readRun } from "../output/run-reader.js";
import { EXIT, UsageError } from "./exit-codes.js";

export interface CompareFlags {
  alpha: number;
  minChange: number;
  failOnRegression: boolean;
  markdown?: string;
  json: boolean;
}

/** Compares run B against run A, level by level; exit 99 on a significant regression when asked. */
export async function compareCommand(a: string, b: string, f: CompareFlags): Promise<number> {
  let runs: Awaited<ReturnType<typeof readRun>>[];
  try {
    runs = await Promise.all([readRun(a), readRun(b)]);
  } catch (err) {
    if (err instanceof RunReadError) throw new UsageError(err.message);
    throw err;
  }
  const [ra, rb] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const c = compareRuns(ra, rb, { alpha: f.alpha, minChange: f.minChange });
  const differ = workloadDifferences(runConfig(a), runConfig(b));
  if (differ.length > 0)
    process.stderr.write(
      `streamslo: the runs asked different things (${differ.join(", ")}): a change may be the workload's, not the endpoint's\n`,
    );
  const names = { a, b };
  // The file first: a path that cannot be written is one line, not a table and then an error.
  if (f.markdown) writeFileSync(f.markdown, compareMarkdown(c, names));
  if (f.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else process.stdout.write(`${compareText(c, names)}\n`);
  if (c.levels.length === 0) {
    process.stderr.write(
      "streamslo: the two runs have no level in common (compare matches levels like c=4 or rate=2)\n",
    );
    return EXIT.usage;
  }
  return f.failOnRegression && c.counts.regression > 0 ? EXIT.sloFailed : EXIT.ok;
}

/** run.json's config (bench's flags, plus the model it asked for); empty when the file is missing. */
function runConfig(dir: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
      config?: Record<string, unknown>;
      endpoint?: { model?: unknown };
    };
    return { ...doc.config, model: doc.endpoint?.model };
  } catch {
    return {}; // an older or hand-made run: nothing to compare, and no warning
  }
}
