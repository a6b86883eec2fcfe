/**
 * Request traces: one row per recorded request, at its offset on the trace's timeline, with its
 * prompt and answer lengths. Two public shapes are read (facts from their published descriptions):
 * - Mooncake-style JSONL (kvcache-ai/Mooncake's traces): {"timestamp": ms, "input_length": N,
 *   "output_length": M, "hash_ids": [..]}; requests that share a hash id share that block of the
 *   prompt (a block of 512 tokens in Mooncake), so prefix reuse is exactly the trace's.
 * - The Azure LLM inference trace CSV (Azure/AzurePublicDataset): TIMESTAMP, ContextTokens,
 *   GeneratedTokens, the timestamp a date-time with up to 7 fractional digits.
 */

export type TraceFormat = "mooncake" | "azure";

export interface TraceRow {
  /** Offset on the trace's own clock, ms (its first row's timestamp is not subtracted here). */
  atMs: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt blocks by hash: equal ids are equal blocks, in every row that names them. */
  hashIds?: number[];
}

export class TraceError extends Error {}

/** Mooncake's prompt block size in tokens: the block a hash id names. */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** The format a file's name or first line says. */
export function traceFormatOf(path: string, firstLine: string): TraceFormat {
  if (/\.csv$/i.test(path) || /^\s*timestamp\s*,/i.test(firstLine)) return "azure";
  return "mooncake";
}

function wholeCount(v: unknown, name: string, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    throw new TraceError(`"${name}" must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function mooncakeRow(line: string): TraceRow {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new TraceError("not JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new TraceError("not a JSON object");
  const r = o as Record<string, unknown>;
  if (typeof r.timestamp !== "number" || !Number.isFinite(r.timestamp) || r.timestamp < 0)
    throw new TraceError(`"timestamp" must be milliseconds >= 0, got ${JSON.stringify(r.timestamp)}`);
  const row: TraceRow = {
    atMs: r.timestamp,
    inputTokens: wholeCount(r.input_length, "input_length", 1),
    outputTokens: wholeCount(r.output_length, "output_length", 1),
  };
  if (r.hash_ids !== undefined) {
    if (!Array.isArray(r.hash_ids) || r.hash_ids.some((h) => typeof h !== "number" || !Number.isInteger(h)))
      throw new TraceError('"hash_ids" must be a list of whole numbers');
    row.hashIds = r.hash_ids as number[];
  }
  return row;
}

/** "2023-11-16 18:15:46.6805900" (UTC) to ms since the epoch, keeping the sub-millisecond part. */
function azureTime(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$/.exec(text.trim());
  if (!m) throw new TraceError(`TIMESTAMP "${text}" is not a date-time like 2023-11-16 18:15:46.6805900`);
  const whole = Date.parse(`${m[1]}T${m[2]}Z`);
  if (!Number.isFinite(whole)) throw new TraceError(`TIMESTAMP "${text}" is not a valid date-time`);
  const fraction = m[3] ? Number(`0.${m[3]}`) * 1000 : 0;
  return whole + fraction;
}

function azureRow(line: string): TraceRow {
  const cells = line.split(",");
  if (cells.length < 3) throw new TraceError("expected TIMESTAMP,ContextTokens,GeneratedTokens");
  const count = (cell: string | undefined, name: string) => wholeCount(Number(cell?.trim()), name, 1);
  return {
    atMs: azureTime(cells[0] as string),
    inputTokens: count(cells[1], "ContextTokens"),
    outputTokens: count(cells[2], "GeneratedTokens"),
  };
}

/** Reads the rows of one trace, a line at a time; checks that time never runs backwards. */
export class TraceParser {
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(readonly format: TraceFormat) {}

  /** The row on `line`, or undefined for a blank line or the CSV header; throws TraceError with the reason. */
  parse(line: string): TraceRow | undefined {
    if (line.trim() === "") return undefined;
    if (this.format === "azure" && /^\s*timestamp\s*,/i.test(line)) return undefined;
    const row = this.format === "azure" ? azureRow(line) : mooncakeRow(line);
    if (row.atMs < this.lastMs)
      throw new TraceError(
        `its time (${row.atMs} ms) is before the row above (${this.lastMs} ms); sort the trace by time`,
      );
    this.lastMs = row.atMs;
    return row;
  }
}
