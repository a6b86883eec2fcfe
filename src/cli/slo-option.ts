import { existsSync, readFileSync } from "node:fs";
import {
  judgesNothing,
  parseSloYaml,
  type SloSpec,
  SloSpecError,
  sloFromObjectives,
} from "../core/slo-spec.js";
import { UsageError } from "./exit-codes.js";
import { fileErrorWords } from "./file-errors.js";

/**
 * `--slo` takes SLO files and inline objectives, each as often as wanted: a value naming an
 * existing file (or ending in .yaml/.yml/.json) is a file, anything else an objective. `what` names
 * the file in errors: the flag it came with, or how a positional argument is known.
 */
export function loadSlo(values: string[], what = "--slo"): SloSpec | undefined {
  if (values.length === 0) return undefined;
  const files = values.filter((v) => existsSync(v) || /\.(ya?ml|json)$/i.test(v));
  const inline = values.filter((v) => !files.includes(v));
  if (files.length > 1)
    throw new UsageError("give at most one SLO file with --slo (inline objectives may be added)");
  try {
    let spec: SloSpec = { request: {}, objectives: [] };
    const file = files[0];
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new UsageError(`cannot read ${what} ${file}: ${fileErrorWords(err)}`);
      }
      spec = parseSloYaml(text, file);
    }
    if (inline.length > 0)
      spec = { ...spec, objectives: [...spec.objectives, ...sloFromObjectives(inline).objectives] };
    if (judgesNothing(spec))
      throw new UsageError(
        `${what} ${file}: nothing to judge (no objectives, request criteria or slos); add e.g. objectives: ["ttft p(95) < 300ms"] (see examples/slo.yaml)`,
      );
    return spec;
  } catch (err) {
    if (err instanceof SloSpecError) throw new UsageError(`${err.message}`);
    throw err;
  }
}
