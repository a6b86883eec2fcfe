/** One log line read as a flat record, and the format it was written in. */
export interface LogEntry {
  format: "json" | "logfmt" | "text";
  fields: Record<string, unknown>;
}

const LOGFMT_PAIR = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;

/**
 * Reads a JSON object line, or failing that a logfmt line (`key=value key2="quoted"`), so the
 * doctor can still say what a line carries when it is in the wrong format.
 */
export function readLogLine(line: string): LogEntry {
  const t = line.trim();
  if (t.startsWith("{")) {
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v === "object" && v !== null && !Array.isArray(v))
        return { format: "json", fields: v as Record<string, unknown> };
    } catch {
      // not JSON after all: try logfmt below
    }
  }
  const fields: Record<string, unknown> = {};
  for (const m of t.matchAll(LOGFMT_PAIR)) {
    const raw = m[2] ?? "";
    fields[m[1] ?? ""] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
  }
  return { format: Object.keys(fields).length >= 2 ? "logfmt" : "text", fields };
}

/** A field by its dotted name, flat (`"service.name": x`) or nested (`service: {name: x}`). */
export function field(fields: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(fields, name)) return fields[name];
  let cur: unknown = fields;
  for (const part of name.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
