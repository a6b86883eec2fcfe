// Hand-written: no maintained npm parser of the Prometheus text format exists for Node, and this one is small.

/**
 * Reads the Prometheus text exposition format 0.0.4 and the parts of OpenMetrics that inference
 * servers emit (`# EOF`, `_created` samples, exemplars after ` # `).
 * Reference: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 * A scrape is someone else's output: a line that cannot be read is counted and skipped, never thrown.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity: the format allows them and `le="+Inf"` buckets need them. */
  value: number;
}

export interface ParsedMetrics {
  samples: Sample[];
  /** Metric family name -> type from `# TYPE` lines (counter, gauge, histogram, summary, untyped...). */
  types: Map<string, string>;
  /** Lines that were neither blank, a comment nor a readable sample. */
  skipped: number;
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const WHOLE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Decimal floats only: Number() alone would also take "", "0x1f" and "Infinity". */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a sample value or `le` bound the way Go's ParseFloat reads them (NaN, ±Inf in any case). */
export function parseSampleValue(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  switch (token.toLowerCase()) {
    case "nan":
      return Number.NaN;
    case "inf":
    case "+inf":
    case "infinity":
    case "+infinity":
      return Number.POSITIVE_INFINITY;
    case "-inf":
    case "-infinity":
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}

function matchAt(re: RegExp, line: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(line)?.[0];
}

function skipBlanks(line: string, at: number): number {
  let i = at;
  while (line[i] === " " || line[i] === "\t") i++;
  return i;
}

/** Reads `{name="value",...}` from the `{` at `at`; returns the pairs and the index after `}`. */
function readLabels(line: string, at: number): { pairs: [string, string][]; end: number } | undefined {
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  let i = at + 1;
  for (;;) {
    i = skipBlanks(line, i);
    if (line[i] === "}") return { pairs, end: i + 1 };
    const name = matchAt(LABEL_NAME, line, i);
    if (name === undefined || seen.has(name)) return undefined;
    seen.add(name);
    i = skipBlanks(line, i + name.length);
    if (line[i] !== "=") return undefined;
    i = skipBlanks(line, i + 1);
    if (line[i] !== '"') return undefined;
    i++;
    let value = "";
    for (;;) {
      const c = line[i];
      if (c === undefined) return undefined; // unterminated quote
      if (c === '"') break;
      if (c === "\\") {
        const next = line[i + 1];
        if (next === undefined) return undefined;
        // The format defines \\, \" and \n; Prometheus keeps any other escape as written.
        value += next === "n" ? "\n" : next === "\\" || next === '"' ? next : `\\${next}`;
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    pairs.push([name, value]);
    i = skipBlanks(line, i + 1);
    if (line[i] === ",") i++;
    else if (line[i] !== "}") return undefined;
  }
}

function parseSampleLine(line: string): Sample | undefined {
  const name = matchAt(METRIC_NAME, line, 0);
  if (name === undefined) return undefined;
  let i = name.length;
  let pairs: [string, string][] = [];
  if (line[i] === "{") {
    const read = readLabels(line, i);
    if (!read) return undefined;
    pairs = read.pairs;
    i = read.end;
  } else if (line[i] !== " " && line[i] !== "\t") {
    return undefined;
  }
  const tokens = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  const value = parseSampleValue(tokens[0] ?? "");
  if (value === undefined) return undefined;
  // After the value: an optional timestamp, then an OpenMetrics exemplar starting with "#". Both are dropped.
  let rest = 1;
  if (tokens[rest] !== undefined && tokens[rest] !== "#") {
    if (!Number.isFinite(parseSampleValue(tokens[rest] as string))) return undefined;
    rest++;
  }
  if (tokens[rest] !== undefined && tokens[rest] !== "#") return undefined;
  // fromEntries defines own properties, so a label called "__proto__" cannot reach the prototype.
  return { name, labels: Object.fromEntries(pairs), value };
}

export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let skipped = 0;
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const words = line
        .slice(1)
        .trim()
        .split(/[ \t]+/);
      if (words[0] === "EOF" && words.length === 1) break;
      if (words[0] === "TYPE") {
        const [, name, type] = words;
        if (name !== undefined && type !== undefined && WHOLE_NAME.test(name)) {
          types.set(name, type.toLowerCase());
        } else {
          skipped++;
        }
      }
      continue; // HELP, UNIT and free comments carry nothing we use
    }
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
    else skipped++;
  }
  return { samples, types, skipped };
}
