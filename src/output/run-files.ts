import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";

/** A run's folder name: UTC timestamp plus a label, e.g. "20261123-081500-sim". */
export function runId(start: Date, label: string): string {
  const t = start.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const safe = label.replace(/[^a-zA-Z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "run";
  return `${t}-${safe}`;
}

/**
 * mkdir -p by hand: Node 20's `mkdirSync(p, { recursive: true })` never returns when a parent
 * answers ENOENT although it exists (e.g. under /proc), so a bad --out would hang the run.
 */
export function makeDirectory(path: string): void {
  const dir = resolve(path);
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && statSync(dir).isDirectory()) return;
    const parent = dirname(dir);
    if (code !== "ENOENT" || parent === dir) throw err;
    makeDirectory(parent);
    mkdirSync(dir); // a second ENOENT is the file system's final word
  }
}

export function createRunDir(base: string, id: string): string {
  let dir = join(base, id);
  for (let i = 2; existsSync(dir); i++) dir = join(base, `${id}-${i}`);
  makeDirectory(dir);
  return dir;
}

/**
 * Appends one JSON line per record with a synchronous write: a record is on disk the moment it
 * completes, so a crash or Ctrl-C loses nothing and never leaves half a line. One small write per
 * request costs microseconds, far below any request's duration.
 */
export class JsonlWriter {
  private fd: number | undefined;
  count = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  write(rec: object): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(rec)}\n`);
    this.count++;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads the header line of an existing CSV file, or undefined when there is none. */
export function csvHeaderOf(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const first = readFileSync(path, "utf8").split("\n", 1)[0];
  return first ? first.trim() : undefined;
}
