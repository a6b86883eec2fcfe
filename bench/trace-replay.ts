import { spawn } from "node:child_process";
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmitter } from "./processes.js";

/** 1,000,000 rows by default (the README's figures); BENCH_TRACE_ROWS makes a quicker run. */
export const TRACE_ROWS = Number(process.env.BENCH_TRACE_ROWS ?? 1_000_000);
/** One row a millisecond on the trace's clock, replayed twice as fast: 2,000 requests a second. */
const SETUP = { recorded_rate: 1000, speed: 2, tokens_per_request: 3, target_mb: 200 };

const CLI = fileURLToPath(new URL("../../bin/streamslo.js", import.meta.url));

async function writeTrace(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < rows; i++) {
    const line = `{"timestamp": ${(i * 1000) / SETUP.recorded_rate}, "input_length": 16, "output_length": ${SETUP.tokens_per_request}}\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** The fields of the trace level's summary this reads. */
interface TraceLevel {
  n: number;
  ok: number;
  rate: number;
  achieved_rate: number;
  send_lag_ms: { p99: number };
}

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `streamslo bench --trace` as a user runs it, against the fast emitter: a trace of TRACE_ROWS rows
 * replayed at 2,000 requests a second. It checks that the replay keeps the trace's pace (achieved
 * over offered) and that memory stays flat in the number of rows (rows are read as they are due).
 */
export async function traceReplay(rows = TRACE_ROWS) {
  const dir = join(tmpdir(), `streamslo-bench-trace-${process.pid}`);
  const file = join(dir, "trace.jsonl");
  await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeTrace(file, rows);
  const emitter = await startEmitter("fast-emitter", {
    EMIT_TOKENS: String(SETUP.tokens_per_request),
    EMIT_ITL_MS: "0",
  });
  try {
    const args = [CLI, "bench", "--url", `http://127.0.0.1:${emitter.port}/v1`, "--trace", file];
    args.push("--trace-speed", String(SETUP.speed), "--baseline", "0", "--server-metrics", "none");
    args.push("--max-send-lag-ms", "1000", "-q", "--json", "--out", join(dir, "runs"));
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const rss: number[] = [];
    const timer = setInterval(() => {
      const kib = child.pid !== undefined ? statusKiB(child.pid, "VmRSS") : undefined;
      if (kib !== undefined) rss.push(kib / 1024);
    }, 1000);
    const peak = { mib: 0 };
    const peakTimer = setInterval(() => {
      const kib = child.pid !== undefined ? statusKiB(child.pid, "VmHWM") : undefined;
      if (kib !== undefined) peak.mib = Math.max(peak.mib, kib / 1024);
    }, 200);
    const t0 = performance.now();
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    clearInterval(timer);
    clearInterval(peakTimer);
    const wallS = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`streamslo bench --trace exited ${code}`);
    const level = (JSON.parse(stdout) as { levels: TraceLevel[] }).levels[0] as TraceLevel;
    const tenth = (k: number) => rss[Math.min(rss.length - 1, Math.floor((rss.length * k) / 10))] ?? 0;
    return {
      ...SETUP,
      rows,
      wall_s: Number(wallS.toFixed(1)),
      requests: level.n,
      ok: level.ok,
      offered_rate: Number(level.rate.toFixed(1)),
      achieved_rate: Number(level.achieved_rate.toFixed(1)),
      achieved_over_offered: Number((level.achieved_rate / level.rate).toFixed(4)),
      send_lag_p99_ms: Number(level.send_lag_ms.p99.toFixed(2)),
      peak_rss_mib: Number(peak.mib.toFixed(0)),
      // RSS a tenth of the way in and at nine tenths: flat means the rows are not held.
      rss_at_10pct_mib: Number(tenth(1).toFixed(0)),
      rss_at_90pct_mib: Number(tenth(9).toFixed(0)),
    };
  } finally {
    await emitter.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
