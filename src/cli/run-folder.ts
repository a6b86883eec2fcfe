import { createRunDir } from "../output/run-files.js";
import { UsageError } from "./exit-codes.js";

/** The run's folder under --out; a folder that cannot be made is the user's to fix, in one line. */
export function makeRunFolder(out: string, id: string): string {
  try {
    return createRunDir(out, id);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `cannot create the run folder in --out ${out} (${e.code ?? e.message}); pass --out a folder you can write to`,
    );
  }
}
