import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { parseDurationMs } from "./duration.js";
import type { FluidityDeadlines } from "./fluidity.js";
import { type Objective, ObjectiveError, parseObjective } from "./objective.js";
import type { PlaybackModel } from "./playback.js";
import { fromOpenSlo, isOpenSlo, OpenSloError } from "./slo/openslo.js";
import {
  type ProductionSpec,
  ProductionSpecError,
  productionFields,
  productionFromRaw,
} from "./slo/production-spec.js";

const duration = z
  .union([z.string().regex(/^\s*\d+(\.\d+)?\s*(us|ms|s|m)?\s*$/), z.number().nonnegative()])
  .describe('a duration: "300ms", "1.5s", "250us", or a number of milliseconds');

const objectiveEntry = z.union([
  z.string().describe('e.g. "ttft p(95) < 300ms", "goodput >= 0.9", "error_rate < 0.1%"'),
  z
    .object({
      threshold: z.string(),
      abortOnFail: z.boolean().optional().describe("stop the run as soon as this objective fails"),
      abortAfter: z
        .number()
        .int()
        .positive()
        .optional()
        .describe("measured requests to wait for before judging mid-run"),
    })
    .strict(),
]);

/** The SLO file's shape (YAML or JSON); `npm run schema` writes it as JSON Schema for editors. */
export const sloFileSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    request: z
      .object({
        ttft: duration.optional(),
        tpot: duration.optional(),
        itl: duration.optional().describe("longest gap between two tokens of one request"),
        e2e: duration.optional(),
        output: z
          .object({
            regex: z.string().optional(),
            contains: z.string().optional(),
            json: z.boolean().optional().describe("the answer must parse as JSON"),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional()
      .describe("per-request criteria: a request is good (counts toward goodput) when it meets all of them"),
    fluidity: z
      .object({ ttft: duration, tbt: duration })
      .strict()
      .optional()
      .describe("token deadlines for Metron's fluidity-index (default: request.ttft and request.tpot)"),
    playback: z
      .object({ buffer: duration, rate: z.number().positive().describe("tokens per second") })
      .strict()
      .optional()
      .describe("client jitter-buffer model: buffered time before playback, then a steady token rate"),
    objectives: z
      .array(objectiveEntry)
      .optional()
      .describe("aggregate objectives; any failing one makes bench exit 99"),
    ...productionFields,
  })
  .strict();

export type SloFile = z.infer<typeof sloFileSchema>;

export interface OutputCheck {
  regex?: RegExp;
  contains?: string;
  json?: boolean;
}

export interface RequestCriteria {
  ttftMs?: number;
  tpotMs?: number;
  itlMs?: number;
  e2eMs?: number;
  output?: OutputCheck;
}

export interface SloSpec {
  name?: string;
  /** Production objectives (`slos:`): rules, alerts, dashboards and budgets. */
  production?: ProductionSpec;
  request: RequestCriteria;
  fluidity?: FluidityDeadlines;
  playback?: PlaybackModel;
  objectives: Objective[];
}

export class SloSpecError extends Error {}

function ms(v: string | number | undefined): number | undefined {
  return v === undefined ? undefined : parseDurationMs(v);
}

function path(p: PropertyKey[]): string {
  return p
    .map((k) => (typeof k === "number" ? `[${k}]` : String(k)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/** Validates a parsed SLO document; every error names the field and what it accepts. */
export function sloFromObject(raw: unknown, source: string): SloSpec {
  const parsed = sloFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? path(issue.path) : "(top level)";
    let what = issue?.message ?? "invalid";
    if (issue?.code === "unrecognized_keys")
      what = `unknown field(s) ${issue.keys.join(", ")}; allowed: ${allowedKeys(issue.path)}`;
    else if (issue?.code === "invalid_union" || issue?.code === "invalid_format")
      what = describeExpected(issue.path);
    throw new SloSpecError(`${source}: ${where}: ${what}`);
  }
  const f = parsed.data;
  const request: RequestCriteria = {
    ttftMs: ms(f.request?.ttft),
    tpotMs: ms(f.request?.tpot),
    itlMs: ms(f.request?.itl),
    e2eMs: ms(f.request?.e2e),
  };
  const out = f.request?.output;
  if (out) {
    let regex: RegExp | undefined;
    if (out.regex !== undefined) {
      try {
        regex = new RegExp(out.regex);
      } catch (err) {
        throw new SloSpecError(`${source}: request.output.regex: ${(err as Error).message}`);
      }
    }
    request.output = { regex, contains: out.contains, json: out.json };
  }
  const objectives = (f.objectives ?? []).map((o, i) => {
    try {
      return typeof o === "string"
        ? parseObjective(o)
        : parseObjective(o.threshold, o.abortOnFail ?? false, o.abortAfter);
    } catch (err) {
      if (err instanceof ObjectiveError)
        throw new SloSpecError(`${source}: objectives[${i}]: ${err.message}`);
      throw err;
    }
  });
  const spec: SloSpec = { name: f.name, request, objectives };
  try {
    spec.production = productionFromRaw(f, source);
  } catch (err) {
    if (err instanceof ProductionSpecError) throw new SloSpecError(err.message);
    throw err;
  }
  if (f.fluidity)
    spec.fluidity = { ttftMs: ms(f.fluidity.ttft) as number, tbtMs: ms(f.fluidity.tbt) as number };
  else if (request.ttftMs !== undefined && request.tpotMs !== undefined) {
    spec.fluidity = { ttftMs: request.ttftMs, tbtMs: request.tpotMs };
  }
  if (f.playback)
    spec.playback = { bufferMs: ms(f.playback.buffer) as number, tokensPerSecond: f.playback.rate };
  return spec;
}

function allowedKeys(p: PropertyKey[]): string {
  const shapes: Record<string, string> = {
    "": "name, description, request, fluidity, playback, objectives, service, labels, window, source, runbook, selector, slos",
    request: "ttft, tpot, itl, e2e, output",
    "request.output": "regex, contains, json",
    fluidity: "ttft, tbt",
    playback: "buffer, rate",
  };
  const key = p.filter((k) => typeof k === "string").join(".");
  return (
    shapes[key] ??
    (key.startsWith("objectives") ? "threshold, abortOnFail, abortAfter" : "see the JSON schema")
  );
}

function describeExpected(p: PropertyKey[]): string {
  if (p[0] === "slos" && p[p.length - 1] === "threshold") return 'expected a duration like "300ms"';
  if (p[0] === "window") return 'expected a whole number of days like "30d" or "28d"';
  if (p[0] === "objectives") return 'expected a string like "ttft p(95) < 300ms" or {threshold, abortOnFail}';
  return 'expected a duration like "300ms", "1.5s", "250us", or a number of milliseconds';
}

/** Parses SLO YAML (JSON is YAML too), or OpenSLO v1 documents (the subset that maps). */
export function parseSloYaml(text: string, source: string): SloSpec {
  if (isOpenSlo(text)) {
    try {
      return sloFromObject(fromOpenSlo(text, source), source);
    } catch (err) {
      if (err instanceof OpenSloError) throw new SloSpecError(err.message);
      throw err;
    }
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      throw new SloSpecError(`${source}${line ? ` line ${line}` : ""}: not valid YAML (${err.code})`);
    }
    throw err;
  }
  return sloFromObject(raw, source);
}

/** An SLO made of inline objectives only (`--slo 'ttft p(95)<300ms'`). */
export function sloFromObjectives(texts: string[]): SloSpec {
  return {
    request: {},
    objectives: texts.map((t) => {
      try {
        return parseObjective(t);
      } catch (err) {
        if (err instanceof ObjectiveError) throw new SloSpecError(err.message);
        throw err;
      }
    }),
  };
}

/**
 * Whether a spec judges anything: an objective, a per-request criterion or a production SLO. An empty,
 * comment-only or name-only file judges nothing, and a gate made of it would always pass.
 */
export function judgesNothing(spec: SloSpec): boolean {
  const r = spec.request;
  const criteria = [r.ttftMs, r.tpotMs, r.itlMs, r.e2eMs, r.output].some((c) => c !== undefined);
  return spec.objectives.length === 0 && !criteria && (spec.production?.slos.length ?? 0) === 0;
}

/** Whether the criteria need the answer text kept in memory. */
export function needsText(spec: SloSpec | undefined): boolean {
  return spec?.request.output !== undefined;
}
