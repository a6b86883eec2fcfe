/**
 * Request traces: one row per recorded request, at its offset on the trace's timeline, with its
 * prompt and answer lengths. Two public shapes are read (facts from their published descriptions):
 * - Mooncake-style JSONL (kvcache-ai/Mooncake's traces): {"timestamp": ms, "input_length": N,
 *   "output_length": M, "hash_ids": [..]}; requests that share a hash id share that block of the
 *   prompt (a block of 512 tokens in Mooncake), so prefix reuse is exactly the trace's.
 * - The Azure LLM inference trace CSV (Azure/AzurePublicDataset): TIMESTAMP, ContextTokens,
 *   GeneratedTokens, the timestamp a date-time with up to 7 fractional digits.
 */

export type TraceFormat = "mooncake" | "azure" | "proxy";

export interface TraceRow {
  /** Offset on the trace's own clock, ms (its first row's timestamp is not subtracted here). */
  atMs: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt blocks by hash: equal ids are equal blocks, in every row that names them. */
  hashIds?: number[];
  /** The conversation the row belongs to (the proxy's log), when known. */
  sessionId?: string;
}

export class TraceError extends Error {}

/** Mooncake's prompt block size in tokens: the block a hash id names. */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** The format a file's name or first line says. */
export function traceFormatOf(path: string, firstLine: string): TraceFormat {
  if (/\.csv$/i.test(path) || /^\s*timestamp\s*,/i.test(firstLine)) return "azure";
  if (/"arrived_at"\s*:/.test(firstLine) && /"route"\s*:/.test(firstLine)) return "proxy";
  return "mooncake";
}

/** The routes of the proxy's log a replay sends again: the generation APIs. */
const REPLAYED_ROUTES = /\/(chat\/)?completions$/;

/**
 * One line of `streamslo proxy`'s request log, as a trace row: its arrival time and the token counts
 * the upstream's usage gave. undefined for a line a replay has nothing to send for (another route,
 * or no token counts: a request that failed before its answer). `finishMs` is when it ended: the
 * log is written in that order, not in order of arrival.
 */
export function proxyLogRow(line: string): (TraceRow & { finishMs: number }) | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new TraceError("not JSON");
  }
  if (typeof o !== "object" || o === null) throw new TraceError("not a JSON object");
  const r = o as Record<string, unknown>;
  if (typeof r.route !== "string" || !REPLAYED_ROUTES.test(r.route)) return undefined;
  if (typeof r.input_tokens !== "number" || typeof r.output_tokens !== "number" || r.output_tokens < 1)
    return undefined;
  const arrived = typeof r.arrived_at === "string" ? Date.parse(r.arrived_at) : Number.NaN;
  if (!Number.isFinite(arrived))
    throw new TraceError(
      'no "arrived_at" time: a log from a proxy older than trace replay cannot be replayed',
    );
  const e2e = typeof r.e2e_ms === "number" && r.e2e_ms >= 0 ? r.e2e_ms : 0;
  return {
    atMs: arrived,
    finishMs: arrived + e2e,
    inputTokens: Math.max(1, Math.round(r.input_tokens)),
    outputTokens: Math.round(r.output_tokens),
    ...(typeof r.session_id === "string" ? { sessionId: r.session_id } : {}),
    ...(Array.isArray(r.hash_ids) && r.hash_ids.every((h) => Number.isInteger(h))
      ? { hashIds: r.hash_ids as number[] }
      : {}),
  };
}

/**
 * Puts rows that come in order of finishing back in order of arrival with a bounded buffer (a binary
 * heap on arrival): a row can leave once every row still to come must arrive after it, which holds
 * for rows that arrived more than the longest request seen (plus a second) before the latest finish.
 * A row later than that anyway leaves at the time of the last row out (`late` counts them).
 */
export class ArrivalOrder {
  private readonly heap: TraceRow[] = [];
  private longestMs = 0;
  private lastOutMs = Number.NEGATIVE_INFINITY;
  late = 0;

  push(row: TraceRow, finishMs: number): TraceRow[] {
    this.longestMs = Math.max(this.longestMs, finishMs - row.atMs);
    this.insert(row);
    const out: TraceRow[] = [];
    const safe = finishMs - this.longestMs - 1000;
    while (this.heap.length > 0 && (this.heap[0] as TraceRow).atMs <= safe) out.push(this.take());
    return out;
  }

  flush(): TraceRow[] {
    const out: TraceRow[] = [];
    while (this.heap.length > 0) out.push(this.take());
    return out;
  }

  private take(): TraceRow {
    const top = this.heap[0] as TraceRow;
    const last = this.heap.pop() as TraceRow;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    if (top.atMs < this.lastOutMs) {
      this.late++;
      return { ...top, atMs: this.lastOutMs };
    }
    this.lastOutMs = top.atMs;
    return top;
  }

  private insert(row: TraceRow): void {
    const h = this.heap;
    h.push(row);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as TraceRow).atMs <= row.atMs) break;
      h[i] = h[p] as TraceRow;
      i = p;
    }
    h[i] = row;
  }

  private down(i: number): void {
    const h = this.heap;
    const row = h[i] as TraceRow;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as TraceRow).atMs < (h[l] as TraceRow).atMs ? r : l;
      if ((h[c] as TraceRow).atMs >= row.atMs) break;
      h[i] = h[c] as TraceRow;
      i = c;
    }
    h[i] = row;
  }
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

/** Reads the rows of a Mooncake or Azure trace, a line at a time; checks that time never runs backwards. */
export class TraceParser {
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(readonly format: Exclude<TraceFormat, "proxy">) {}

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
