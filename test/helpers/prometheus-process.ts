import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { tempDir } from "./cli.js";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Calls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    await sleep(everyMs);
  }
}

interface PromResponse {
  status: string;
  error?: string;
  data: {
    result: { metric: Record<string, string>; value: [number, string] }[];
    activeTargets?: { lastScrape: string; health: string; lastError: string }[];
  };
}

export interface PrometheusProcess {
  url: string;
  /** The first element of an instant query's vector, or undefined when it is empty. */
  query(promql: string): Promise<number | undefined>;
  /** Start time (ms since epoch) of the target's most recent scrape, or undefined before the first. */
  lastScrapeMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function getJson(url: string): Promise<PromResponse> {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  const doc = (await res.body.json()) as PromResponse;
  if (doc.status !== "success") throw new Error(`${url}: ${doc.error ?? res.statusCode}`);
  return doc;
}

/** Starts a real Prometheus that scrapes `target` (host:port) every second; resolves once it is ready. */
export async function startPrometheus(target: string, metricsPath = "/metrics"): Promise<PrometheusProcess> {
  const dir = tempDir();
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: streamslo-proxy",
      `    metrics_path: ${metricsPath}`,
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      "Prometheus /-/ready",
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
        const res = await request(`${url}/-/ready`, { headersTimeout: 1000, bodyTimeout: 1000 });
        await res.body.dump();
        return res.statusCode === 200 ? true : undefined;
      },
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(promql) {
      const doc = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const v = doc.data.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    },
    async lastScrapeMs() {
      const doc = await getJson(`${url}/api/v1/targets?state=active`);
      const t = doc.data.activeTargets?.[0];
      if (!t || t.health === "unknown") return undefined;
      if (t.health !== "up") throw new Error(`target down: ${t.lastError}`);
      return Date.parse(t.lastScrape);
    },
    stop,
  };
}
