import { InvalidArgumentError } from "commander";
import { parseDurationMs } from "../core/duration.js";
import { type LengthDistribution, LengthSpecError, parseLength } from "../core/length-distribution.js";

export function lengthOption(value: string): LengthDistribution {
  try {
    return parseLength(value);
  } catch (err) {
    if (err instanceof LengthSpecError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** "90s", "10m", "6h", "3d", "500ms" or a bare number of seconds -> seconds */
export function durationSeconds(value: string): number {
  const bare = Number(value);
  if (Number.isFinite(bare) && bare > 0) return bare;
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError("expected a duration such as 90, 90s, 10m, 6h, 3d or 500ms.");
  return ms / 1000;
}

/** The longest timer Node sets (2^31 - 1 ms); past it a timer fires at once. */
const MAX_TIMER_S = 2_147_483;

/** Like durationSeconds, and 0 too (a ramp of none). */
export function durationOrZeroSeconds(value: string): number {
  return Number(value) === 0 || parseDurationMs(value) === 0 ? 0 : durationSeconds(value);
}

/** A time limit in seconds like durationSeconds ("90", "90s", "2m"), where 0 means no limit. */
export function timeLimitSeconds(value: string): number {
  const s = durationOrZeroSeconds(value);
  if (s === 0) return 0;
  if (s > MAX_TIMER_S)
    throw new InvalidArgumentError(`at most ${MAX_TIMER_S} s (24 days); 0 means no limit.`);
  return s;
}

/** A replay's stretch: a run of minutes replayed over a 30-day period needs about 1e4; past 1e6 the replay's steps never end. */
export function timeScale(value: string): number {
  const n = positiveNumber(value);
  if (n > 1e6) throw new InvalidArgumentError("expected a factor between 0 and 1000000.");
  return n;
}

/** "0.5,1,2" -> [0.5, 1, 2] */
export function positiveNumberList(value: string): number[] {
  const out = value.split(",").map((p) => Number(p.trim()));
  if (out.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new InvalidArgumentError("expected comma-separated numbers above 0, e.g. 0.5,1,2.");
  }
  return distinct(out);
}

/** Levels are named by their value (c=4, rate=2): two alike could not be told apart in any output. */
function distinct(levels: number[]): number[] {
  const seen = levels.find((n, i) => levels.indexOf(n) !== i);
  if (seen !== undefined) throw new InvalidArgumentError(`${seen} is given twice; each level once.`);
  return levels;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number above 0.");
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1.");
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number of at least 0.");
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of at least 0.");
  return n;
}

export function probability(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError("expected a rate between 0 and 1.");
  return n;
}

/** "1,4,8" -> [1, 4, 8] */
export function positiveIntList(value: string): number[] {
  const parts = value.split(",").map((p) => p.trim());
  const out = parts.map(Number);
  if (parts.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError("expected comma-separated whole numbers of at least 1, e.g. 1,4,8.");
  }
  return distinct(out);
}

export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`expected a JSON object, e.g. '{"cache_prompt": false}'.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`expected a JSON object, e.g. '{"cache_prompt": false}'.`);
  }
  return parsed as Record<string, unknown>;
}

/** "127.0.0.1:8000" or ":8000" or "8000" -> host and port */
export function hostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(value.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidArgumentError("expected HOST:PORT, e.g. 127.0.0.1:8000.");
  return { host: m[1] || "127.0.0.1", port };
}

/** A text value that must hold something: an empty name or prompt is a slip (an unset variable), not a choice. */
export function nonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("must not be empty.");
  return value;
}
