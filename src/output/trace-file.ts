import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import {
  ArrivalOrder,
  proxyLogRow,
  TraceError,
  type TraceFormat,
  TraceParser,
  type TraceRow,
  traceFormatOf,
} from "../core/trace.js";

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

/** The first line of a file (its first 4 KiB at most), to tell its format by. */
export async function firstLine(path: string): Promise<string> {
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

/** A reader of one format: rows ready after each line (in order of arrival), and those left at the end. */
interface RowReader {
  line(text: string): TraceRow[];
  end(): TraceRow[];
}

function rowReader(format: TraceFormat): RowReader {
  if (format === "proxy") {
    const order = new ArrivalOrder();
    return {
      line: (text) => {
        if (text.trim() === "") return [];
        const r = proxyLogRow(text);
        return r ? order.push(r, r.finishMs) : [];
      },
      end: () => order.flush(),
    };
  }
  const parser = new TraceParser(format);
  return {
    line: (text) => {
      const r = parser.parse(text);
      return r ? [r] : [];
    },
    end: () => [],
  };
}

/**
 * The selected rows of a trace file, streamed line by line (a million-row trace never sits in memory),
 * with offsets from the first selected row. A bad row throws TraceFileError naming its line.
 */
export async function* readTrace(path: string, sel: TraceSelection = {}): AsyncGenerator<SelectedRow> {
  const format = sel.format ?? traceFormatOf(path, await firstLine(path));
  const reader = rowReader(format);
  const input = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let traceStart: number | undefined;
  let windowStart: number | undefined;
  let index = 0;
  let done = false;
  /** The row as selected, or undefined when it falls before the window; sets `done` past its end. */
  const select = (row: TraceRow): SelectedRow | undefined => {
    traceStart ??= row.atMs;
    const t = row.atMs - traceStart;
    if (sel.fromMs !== undefined && t < sel.fromMs) return undefined;
    if ((sel.toMs !== undefined && t >= sel.toMs) || (sel.rows !== undefined && index >= sel.rows)) {
      done = true;
      return undefined;
    }
    windowStart ??= row.atMs;
    return { ...row, atMs: row.atMs - windowStart, index: index++ };
  };
  try {
    for await (const line of lines) {
      lineNo++;
      let ready: TraceRow[];
      try {
        ready = reader.line(line);
      } catch (err) {
        if (err instanceof TraceError) throw new TraceFileError(`${path} line ${lineNo}: ${err.message}`);
        throw err;
      }
      for (const row of ready) {
        const s = select(row);
        if (done) return;
        if (s) yield s;
      }
    }
    for (const row of reader.end()) {
      const s = select(row);
      if (done) return;
      if (s) yield s;
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
