import { writeFileSync } from "node:fs";
import { compareRuns } from "../core/run-compare.js";
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
