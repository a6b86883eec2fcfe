import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { TraceError, type TraceFormat, TraceParser, type TraceRow, traceFormatOf } from "../core/trace.js";

/** Which part of a trace to replay: a window of its timeline (ms from its first row), then at most `rows` rows. */
export interface TraceSelection {
  format?: TraceFormat;
  fromMs?: number;
  toMs?: number;
  rows?: number;
}

export interface TraceSummary {
  format: TraceFormat;
  /** Rows selected. */
  rows: number;
  /** Trace time the selected rows span, ms (first to last). */
  spanMs: number;
}

/** A trace row with its place: `index` counts selected rows from 0; `atMs` is relative to the first selected. */
export interface SelectedRow extends TraceRow {
  index: number;
}

export class TraceFileError extends Error {}

async function firstLine(path: string): Promise<string> {
  const f = await open(path, "r").catch((err: NodeJS.ErrnoException) => {
    throw new TraceFileError(
      `cannot read --trace ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`,
    );
  });
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await f.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString("utf8").split(/\r?\n/)[0] ?? "";
  } finally {
    await f.close();
  }
}

/**
 * The selected rows of a trace file, streamed line by line (a million-row trace never sits in memory),
 * with offsets from the first selected row. A bad row throws TraceFileError naming its line.
 */
export async function* readTrace(path: string, sel: TraceSelection = {}): AsyncGenerator<SelectedRow> {
  const format = sel.format ?? traceFormatOf(path, await firstLine(path));
  const parser = new TraceParser(format);
  const input = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let traceStart: number | undefined;
  let windowStart: number | undefined;
  let index = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      let row: TraceRow | undefined;
      try {
        row = parser.parse(line);
      } catch (err) {
        if (err instanceof TraceError) throw new TraceFileError(`${path} line ${lineNo}: ${err.message}`);
        throw err;
      }
      if (!row) continue;
      traceStart ??= row.atMs;
      const t = row.atMs - traceStart;
      if (sel.fromMs !== undefined && t < sel.fromMs) continue;
      if (sel.toMs !== undefined && t >= sel.toMs) break;
      if (sel.rows !== undefined && index >= sel.rows) break;
      windowStart ??= row.atMs;
      yield { ...row, atMs: row.atMs - windowStart, index: index++ };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Reads the whole selection once before any load: every bad row is found now, with its line. */
export async function checkTrace(path: string, sel: TraceSelection = {}): Promise<TraceSummary> {
  const format = sel.format ?? traceFormatOf(path, await firstLine(path));
  let rows = 0;
  let spanMs = 0;
  for await (const r of readTrace(path, { ...sel, format })) {
    rows++;
    spanMs = r.atMs;
  }
  if (rows === 0)
    throw new TraceFileError(
      `--trace ${path}: no rows${sel.fromMs !== undefined || sel.toMs !== undefined ? " in the window asked for" : ""}`,
    );
  return { format, rows, spanMs };
}
