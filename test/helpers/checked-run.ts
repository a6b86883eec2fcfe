import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, collect, spawnCli } from "./cli.js";

export interface RunRecord {
  id: string;
  scenario: string;
  phase: string;
  outcome: string;
  error?: { code: string; message: string };
  text?: string;
}

export interface LevelCounts {
  scenario: string;
  n: number;
  ok: number;
  error: number;
  incomplete: number;
  errors_by_code: Record<string, number>;
}

export interface CheckedRun extends CliResult {
  dir: string;
  summary: { interrupted: boolean; levels: LevelCounts[] };
  records: RunRecord[];
  /** Peak resident memory of the CLI process in MiB (Linux /proc), when it could be read. */
  peakRssMiB?: number;
}

function peakRssKiB(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** Collects a CLI child's output, sampling its peak RSS (VmHWM) until it exits. */
export async function collectWithPeak(child: ChildProcess): Promise<CliResult & { peakRssMiB?: number }> {
  let peak: number | undefined;
  const sample = () => {
    const kib = peakRssKiB(child.pid);
    if (kib !== undefined) peak = Math.max(peak ?? 0, kib);
  };
  const timer = setInterval(sample, 25);
  const r = await collect(child);
  clearInterval(timer);
  return { ...r, peakRssMiB: peak === undefined ? undefined : peak / 1024 };
}

/** The records of requests.jsonl; fails unless the file is whole lines of JSON. */
export function readRecords(dir: string): RunRecord[] {
  const text = readFileSync(join(dir, "requests.jsonl"), "utf8");
  if (text === "") return [];
  assert.ok(text.endsWith("\n"), "requests.jsonl ends with a whole line");
  const records: RunRecord[] = [];
  for (const [i, line] of text.slice(0, -1).split("\n").entries()) {
    try {
      records.push(JSON.parse(line) as RunRecord);
    } catch {
      assert.fail(`requests.jsonl line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
  }
  return records;
}

export function onlyRunDir(out: string): string {
  const dirs = readdirSync(out);
  assert.equal(dirs.length, 1, `one run folder in ${out}: ${dirs.join(", ")}`);
  return join(out, dirs[0] as string);
}

/** Reads the run folder a finished CLI run left in `out`. */
export function readRun(out: string, r: CliResult & { peakRssMiB?: number }): CheckedRun {
  const dir = onlyRunDir(out);
  assert.ok(existsSync(join(dir, "summary.json")), `summary.json written; stderr: ${r.stderr}`);
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as CheckedRun["summary"];
  return { ...r, dir, summary, records: readRecords(dir) };
}

/** Runs `streamslo bench` (args include --out `out`) and reads what it wrote. */
export async function benchRun(
  args: string[],
  out: string,
  env?: Record<string, string>,
): Promise<CheckedRun> {
  return readRun(out, await collectWithPeak(spawnCli(["bench", ...args, "--out", out], env)));
}

/** Exits with a code, not a signal or a crash, and says so without a stack trace. */
export function assertCleanExit(r: CliResult, code: number): void {
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}; stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+[:(]/, `a stack trace on stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /unexpected failure|Unhandled|FATAL ERROR/i, r.stderr);
}

/**
 * What must hold for any run, whatever the server did: each request sent has exactly one line
 * (ids r0, r1, ... with no gap and no repeat), every level's n = ok + error + incomplete and agrees
 * with its lines, and every failure carries a code.
 */
export function assertRunInvariants(run: CheckedRun, serverReceived?: number): void {
  const ids = run.records.filter((r) => r.phase !== "baseline").map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, "no request has two lines");
  const expected = ids.map((_, i) => `r${i}`).sort();
  assert.deepEqual([...ids].sort(), expected, "every request sent has its line");
  if (serverReceived !== undefined) {
    assert.ok(
      ids.length >= serverReceived,
      `${serverReceived} requests reached the server, ${ids.length} lines`,
    );
  }
  for (const r of run.records) {
    assert.ok(["ok", "error", "incomplete", "aborted"].includes(r.outcome), `outcome ${r.outcome}`);
    assert.equal(r.outcome === "aborted", r.error?.code === "aborted", `${r.id}: aborted is its own outcome`);
    assert.equal(r.outcome === "ok", r.error === undefined, `${r.id}: a failure has a code, a success none`);
  }
  for (const l of run.summary.levels) {
    assert.equal(l.n, l.ok + l.error + l.incomplete, `${l.scenario}: n = ok + error + incomplete`);
    const byCode = Object.values(l.errors_by_code).reduce((a, b) => a + b, 0);
    assert.equal(byCode, l.error + l.incomplete, `${l.scenario}: errors_by_code adds up`);
    const measured = run.records.filter(
      (r) => r.scenario === l.scenario && r.phase === "measure" && r.error?.code !== "aborted",
    );
    assert.equal(measured.length, l.n, `${l.scenario}: n matches the measured lines`);
    assert.equal(measured.filter((r) => r.outcome === "ok").length, l.ok, `${l.scenario}: ok matches`);
  }
}

/** The error codes of the measured (not aborted) requests, with how often each occurred. */
export function measuredCodes(run: CheckedRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of run.records) {
    if (r.phase !== "measure" || r.error?.code === "aborted") continue;
    const key = r.error?.code ?? "ok";
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
