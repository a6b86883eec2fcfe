import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { LevelAggregate, type LevelInfo, type LevelSummary, type Mode } from "../core/level-aggregate.js";
import type { RequestRecord } from "../core/record.js";
import { type LevelSamples, SampleCollector } from "../core/run-compare.js";

/** A run folder that cannot be read; the message names the folder or file, and the line when there is one. */
export class RunReadError extends Error {
  override name = "RunReadError";
}

/** summary.json: `levels` checked, every other field passed through as written. */
export type SummaryDocument = Record<string, unknown> & { levels: LevelSummary[] };

export interface RunData {
  dir: string;
  /** summary.json's `levels`. */
  levels: LevelSummary[];
  /** Per-request samples by scenario, from requests.jsonl. */
  samples: ReadonlyMap<string, LevelSamples>;
  /** Records in requests.jsonl (every phase and outcome). */
  records: number;
}

const HINT = "pass a folder written by streamslo bench";

/**
 * Reads a run folder for `compare`: summary.json whole, requests.jsonl streamed line by line into the
 * sample collector, so a long run's records never sit in memory at once.
 */
export async function readRun(dir: string): Promise<RunData> {
  const { levels } = await loadSummaryDocument(dir);
  const collector = new SampleCollector();
  const records = await streamRecords(join(dir, "requests.jsonl"), (r) => collector.add(r));
  return { dir, levels, samples: collector.samples, records };
}

/** Parses a run folder's summary.json; checks only what readers rely on, so later added fields still load. */
export function readSummaryDocument(dir: string): SummaryDocument {
  const kind = statOf(dir);
  if (kind === "missing") throw new RunReadError(`${dir}: no such folder; ${HINT}`);
  if (kind === "file") throw new RunReadError(`${dir}: not a folder; ${HINT}`);
  const path = join(dir, "summary.json");
  if (statOf(path) !== "file") throw new RunReadError(`${dir}: no summary.json here; ${HINT}`);
  const doc = parseJson(readText(path), path);
  if (!isObject(doc) || !Array.isArray(doc.levels)) {
    throw new RunReadError(`${path}: no "levels" array; ${HINT}`);
  }
  const speech = doc.kind === "speech";
  doc.levels.forEach((level: unknown, i) => {
    const problem = speech ? speechLevelProblem(level) : levelProblem(level);
    if (problem) throw new RunReadError(`${path}: levels[${i}] is not a level summary (${problem})`);
  });
  return doc as SummaryDocument;
}

/**
 * Feeds each record of a JSONL file to `onRecord` as it is read (node:readline over a file stream) and
 * resolves to the number of records. Blank lines are skipped; anything else unreadable stops with its line.
 */
export async function streamRecords(path: string, onRecord: (r: RequestRecord) => void): Promise<number> {
  if (statOf(path) !== "file") throw new RunReadError(`${dirname(path)}: no ${basename(path)} here; ${HINT}`);
  const input = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let count = 0;
  // A line that is not JSON: an error, unless it is the last and unfinished (the writer was killed mid-line).
  let broken: RunReadError | undefined;
  let brokenLine = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      if (broken) throw broken;
      const where = `${path} line ${lineNo}`;
      let value: unknown;
      try {
        value = parseJson(line, where);
      } catch (e) {
        broken = e as RunReadError;
        brokenLine = lineNo;
        continue;
      }
      const problem = recordProblem(value);
      if (problem) throw new RunReadError(`${where}: not a request record (${problem})`);
      onRecord(value as RequestRecord);
      count++;
    }
  } catch (e) {
    if (e instanceof RunReadError) throw e;
    throw new RunReadError(`${path}: cannot read (${(e as Error).message})`);
  } finally {
    lines.close();
    input.destroy();
  }
  if (broken) {
    if (endsWithNewline(path)) throw broken;
    process.stderr.write(
      `streamslo: warning: ${path} line ${brokenLine} is cut off (the run was killed while writing it): read the ${count} records before it\n`,
    );
  }
  return count;
}

function endsWithNewline(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    return size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 10;
  } finally {
    closeSync(fd);
  }
}

function statOf(path: string): "missing" | "file" | "folder" {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return "missing";
  return s.isDirectory() ? "folder" : "file";
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new RunReadError(`${path}: cannot read (${(e as Error).message})`);
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunReadError(`${where}: not valid JSON (${(e as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function levelProblem(v: unknown): string | undefined {
  if (!isObject(v)) return "not an object";
  if (typeof v.scenario !== "string") return 'no "scenario"';
  for (const key of ["request_throughput", "output_token_throughput"]) {
    if (typeof v[key] !== "number") return `no "${key}"`;
  }
  if (!isObject(v.goodput) || typeof v.goodput.share !== "number") return 'no "goodput.share"';
  return undefined;
}

function speechLevelProblem(v: unknown): string | undefined {
  if (!isObject(v)) return "not an object";
  if (typeof v.scenario !== "string") return 'no "scenario"';
  if (v.kind !== "stt" && v.kind !== "tts") return 'no "kind" (stt or tts)';
  if (!Array.isArray(v.targets)) return 'no "targets"';
  if (!isObject(v.goodput) || typeof v.goodput.share !== "number") return 'no "goodput.share"';
  return undefined;
}

/** What requestMetrics and the sample collector read; the rest of a record is optional. */
function recordProblem(v: unknown): string | undefined {
  if (!isObject(v)) return "not an object";
  for (const key of ["scenario", "phase", "outcome"]) {
    if (typeof v[key] !== "string") return `no "${key}"`;
  }
  if (typeof v.startMs !== "number") return 'no "startMs"';
  if (!Array.isArray(v.chunkTimesMs) || !Array.isArray(v.chunkTokens))
    return 'no "chunkTimesMs"/"chunkTokens"';
  return undefined;
}

/** What a run killed before its end (SIGKILL, out of memory) records as its stop: summary.json never came. */
export const UNFINISHED = "unfinished";

/** "c=4" or "rate=2.5" back into the level it names (as bench's levelInfo names them). */
function levelOf(scenario: string, mode: Mode): LevelInfo {
  const [kind, value] = scenario.split("=");
  const n = Number(value);
  if (kind === "c" && Number.isFinite(n)) return { scenario, mode, concurrency: n };
  if (kind === "rate" && Number.isFinite(n)) return { scenario, mode, rate: n };
  return { scenario, mode };
}

function runJson(dir: string): Record<string, unknown> {
  const path = join(dir, "run.json");
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return {}; // cut off mid-write: the records alone still rebuild the levels
  }
}

/**
 * summary.json of a run folder, or, when the run was killed before it wrote one, what can be rebuilt
 * from requests.jsonl (which is written line by line as requests end): every level's counts,
 * distributions and goodput from its measured records, with the stop recorded as "unfinished" so no
 * reader takes it for a complete run. Objectives and validity are not rebuilt: they were never judged.
 */
export async function loadSummaryDocument(
  dir: string,
  warn = true,
): Promise<SummaryDocument & { rebuilt?: boolean }> {
  try {
    return readSummaryDocument(dir);
  } catch (err) {
    const records = join(dir, "requests.jsonl");
    if (!(err instanceof RunReadError) || existsSync(join(dir, "summary.json")) || !existsSync(records))
      throw err;
  }
  const info = runJson(dir);
  const config = (info.config ?? {}) as { stream?: boolean };
  const mode: Mode = config.stream === false ? "no-stream" : "stream";
  const levels = new Map<string, LevelAggregate>();
  let count = 0;
  await streamRecords(join(dir, "requests.jsonl"), (r) => {
    count++;
    if (r.phase !== "measure" || r.outcome === "aborted") return;
    let agg = levels.get(r.scenario);
    if (!agg) {
      agg = new LevelAggregate(levelOf(r.scenario, mode));
      levels.set(r.scenario, agg);
    }
    agg.add(r);
  });
  if (levels.size === 0)
    throw new RunReadError(
      `${dir}: no summary.json, and requests.jsonl holds no measured request to rebuild one from (the run ended before any)`,
    );
  if (warn)
    process.stderr.write(
      `streamslo: warning: ${dir} has no summary.json: the run did not finish (killed, or out of memory); rebuilt ${levels.size} level(s) from the ${count} records of requests.jsonl, without objectives or validity\n`,
    );
  return {
    ...info,
    rebuilt: true,
    interrupted: true,
    stop_reason: { kind: UNFINISHED },
    levels: [...levels.values()].map((a) => a.summary()),
  };
}
