import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LevelOutcome, LevelTask, WindowResult, WindowTask } from "./client-worker.js";
import { findNginx, nginxVersion, startNginx } from "./nginx.js";
import { cpuSeconds } from "./proc-cpu.js";
import { benchModule, type Child, r3, runWorker, startEmitter, startService } from "./processes.js";

export type PathName = "direct" | "streamslo" | "node" | "nginx";

/** Latency: the calibrated emitter, 16 tokens, first after 20 ms, then every 20 ms, streams staggered. */
const LATENCY_EMITTER = { EMIT_TOKENS: "16", EMIT_TTFT_MS: "20", EMIT_ITL_MS: "20", EMIT_STAGGER: "1" };
/** Throughput: the fast emitter, 128 tokens as fast as the path takes them. */
const THROUGHPUT_TOKENS = 128;
const ROUNDS = 2;
/**
 * Requests per latency run, at least: with 10 per stream at 64 streams (640), a p99 was the
 * seventh-worst request, and the proxy's E2E p99 moved by 11 ms between the two rounds of one run.
 */
const MIN_REQUESTS = 2000;
/**
 * Requests per stream of the unmeasured warm-up before each latency run (about 4 s). A fresh
 * proxy's CPU per request, at 64 streams in three 3.4 s runs after 1.3 s of warm-up, was 0.93,
 * 0.77 and 0.74 ms, then level: V8 still compiling, not the service's steady state.
 */
const WARM_ROUNDS = 12;

export interface PathRow extends LevelOutcome {
  path: PathName;
  streams: number;
  /** Content events per second through the path with an unpaced emitter (the client's own count). */
  max_events_per_s: number;
  /** CPU time the proxy spent per 1,000 events in that run (null: direct, or no /proc). */
  proxy_cpu_ms_per_1k_events: number | null;
  /** The proxy's CPU over the paced latency run, in cores (1 = one core busy; null: direct, or no /proc). */
  proxy_cpu_cores_paced: number | null;
}

export interface ProxyResult {
  nginx: { available: boolean; note: string };
  latency_emitter: typeof LATENCY_EMITTER;
  rows: PathRow[];
  /** Every round of every path, for the record. */
  rounds: (PathRow & { round: number })[];
}

const streamsloBin = fileURLToPath(new URL("../../bin/streamslo.js", import.meta.url));

/** Starts the proxy under test in front of the emitter on `upstreamPort`; undefined for "direct". */
async function startPath(
  path: PathName,
  upstreamPort: number,
  dir: string,
  nginxBin: string | undefined,
): Promise<(Child & { url: string }) | undefined> {
  if (path === "direct") return undefined;
  if (path === "nginx") return startNginx(nginxBin as string, join(dir, "nginx"), upstreamPort);
  if (path === "node") {
    const relay = startService(process.execPath, [
      benchModule("plain-relay"),
      `http://127.0.0.1:${upstreamPort}`,
    ]);
    const m = await relay.stderrMatch(/plain relay: (http:\/\/\S+)/);
    return { ...relay, url: `${m[1]}/v1` };
  }
  const svc = startService(process.execPath, [
    streamsloBin,
    "proxy",
    "--upstream",
    `http://127.0.0.1:${upstreamPort}`,
    "--listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
    "--max-streams",
    "4096",
    "--log-file",
    join(dir, "proxy.log"),
  ]);
  const m = await svc.stderrMatch(/streamslo proxy: (http:\/\/\S+) ->/);
  return { ...svc, url: `${m[1]}/v1` };
}

/**
 * Runs `measure` against the emitter through `path`, with fresh processes for both; also the
 * proxy's CPU seconds. `warm`, when given, runs first and unmeasured on every path alike: a proxy
 * is a long-running service, and a fresh Node process spends its first second compiling.
 */
async function through<T>(
  path: PathName,
  emitter: Parameters<typeof startEmitter>,
  dir: string,
  nginxBin: string | undefined,
  measure: (url: string) => Promise<T>,
  warm?: (url: string) => Promise<unknown>,
): Promise<{ result: T; proxyCpuS: number | undefined; wallS: number }> {
  const e = await startEmitter(...emitter);
  try {
    const proxy = await startPath(path, e.port, dir, nginxBin);
    try {
      await warm?.(proxy?.url ?? `http://127.0.0.1:${e.port}/v1`);
      const cpu0 = cpuSeconds(proxy?.proc.pid);
      const t0 = performance.now();
      const result = await measure(proxy?.url ?? `http://127.0.0.1:${e.port}/v1`);
      const cpu1 = cpuSeconds(proxy?.proc.pid);
      return {
        result,
        proxyCpuS: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
        wallS: (performance.now() - t0) / 1000,
      };
    } finally {
      await proxy?.stop();
    }
  } finally {
    await e.stop();
  }
}

/** Each figure at its best over the rounds: other work on the machine only ever makes it worse. */
function best(rows: PathRow[]): PathRow {
  const min = (f: (r: PathRow) => number) => Math.min(...rows.map(f));
  const max = (f: (r: PathRow) => number) => Math.max(...rows.map(f));
  const first = rows[0] as PathRow;
  return {
    ...first,
    ok: min((r) => r.ok),
    ttft_p50_ms: min((r) => r.ttft_p50_ms),
    ttft_p99_ms: min((r) => r.ttft_p99_ms),
    e2e_p50_ms: min((r) => r.e2e_p50_ms),
    e2e_p99_ms: min((r) => r.e2e_p99_ms),
    tokens_per_s: max((r) => r.tokens_per_s),
    requests_per_s: max((r) => r.requests_per_s),
    loop_lag_p50_ms: min((r) => r.loop_lag_p50_ms),
    loop_lag_p99_ms: min((r) => r.loop_lag_p99_ms),
    loop_lag_max_ms: min((r) => r.loop_lag_max_ms),
    max_events_per_s: max((r) => r.max_events_per_s),
    proxy_cpu_ms_per_1k_events:
      first.proxy_cpu_ms_per_1k_events === null ? null : min((r) => r.proxy_cpu_ms_per_1k_events ?? 0),
    proxy_cpu_cores_paced:
      first.proxy_cpu_cores_paced === null ? null : min((r) => r.proxy_cpu_cores_paced ?? 0),
  };
}

/**
 * TTFT and E2E as the streamslo client sees them, straight to the emitter and through each proxy,
 * at each stream count; then the most events/s each path carries. Paths alternate within a round
 * and each figure is the best of the rounds, since other work on the machine only ever adds.
 */
export async function proxyOverhead(streamCounts: number[], requestsPerStream: number): Promise<ProxyResult> {
  const nginxBin = findNginx();
  // "node" is the plain relay (bench/plain-relay.ts): what any Node.js proxy costs, measuring nothing.
  const paths: PathName[] = nginxBin
    ? ["direct", "streamslo", "node", "nginx"]
    : ["direct", "streamslo", "node"];
  const dir = mkdtempSync(join(tmpdir(), "streamslo-proxy-bench-"));
  const rounds: ProxyResult["rounds"] = [];
  try {
    for (const streams of streamCounts) {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const path of paths) {
          const level: LevelTask = {
            mode: "level",
            url: "",
            streams,
            maxTokens: 16,
            n: Math.max(streams * requestsPerStream, MIN_REQUESTS),
          };
          const lat = await through(
            path,
            ["emitter", LATENCY_EMITTER],
            dir,
            nginxBin,
            (url) => runWorker<LevelOutcome>("client-worker", { ...level, url }),
            (url) => runWorker<LevelOutcome>("client-worker", { ...level, url, n: streams * WARM_ROUNDS }),
          );
          const window: WindowTask = {
            mode: "window",
            client: "streamslo",
            url: "",
            streams,
            maxTokens: THROUGHPUT_TOKENS,
            warmupMs: 500,
            measureMs: 2000,
          };
          const fast = { EMIT_TOKENS: String(THROUGHPUT_TOKENS), EMIT_ITL_MS: "0" };
          // One unmeasured window first, as for latency: through a fresh proxy at 64 streams,
          // successive windows carried 452k, 534k, then 493k-556k events/s.
          const unpaced = (url: string) => runWorker<WindowResult>("client-worker", { ...window, url });
          const thr = await through(path, ["fast-emitter", fast], dir, nginxBin, unpaced, unpaced);
          const cpu = thr.proxyCpuS;
          const row = {
            round,
            path,
            streams,
            ...lat.result,
            max_events_per_s: thr.result.events_per_s,
            proxy_cpu_ms_per_1k_events:
              cpu === undefined || thr.result.total_events === 0
                ? null
                : r3((cpu * 1e6) / thr.result.total_events),
            // The worker's start-up is in the wall time too, so this understates the busy share a little.
            proxy_cpu_cores_paced: lat.proxyCpuS === undefined ? null : r3(lat.proxyCpuS / lat.wallS),
          };
          process.stderr.write(`proxy ${JSON.stringify(row)}\n`);
          rounds.push(row);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = streamCounts.flatMap((s) =>
    paths.map((p) => best(rounds.filter((r) => r.streams === s && r.path === p))),
  );
  return {
    nginx: nginxBin
      ? { available: true, note: `${nginxVersion(nginxBin)}, one worker process` }
      : { available: false, note: "nginx is not installed: its column is skipped (apt-get install nginx)" },
    latency_emitter: LATENCY_EMITTER,
    rows: rows.map(({ round: _r, ...r }: PathRow & { round?: number }) => r),
    rounds,
  };
}
