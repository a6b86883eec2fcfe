import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { Distribution } from "../core/histogram.js";
import type { ProductionView } from "../core/report/replay-beside.js";
import { proxyLogRow } from "../core/trace.js";

/**
 * What the proxy measured of the requests a replay sends again (the lines proxyLogRow replays):
 * their outcomes and TTFT and E2E, streamed from the log. undefined when the file is gone.
 */
export async function productionView(path: string): Promise<ProductionView | undefined> {
  if (!existsSync(path)) return undefined;
  const ttft = new Distribution();
  const e2e = new Distribution();
  let n = 0;
  let failed = 0;
  const lines = createInterface({
    input: createReadStream(path, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let replayed: ReturnType<typeof proxyLogRow>;
    try {
      replayed = proxyLogRow(line);
    } catch {
      continue; // a line a replay would not send
    }
    if (!replayed) continue;
    const l = JSON.parse(line) as { outcome?: string; ttft_ms?: number; e2e_ms?: number };
    n++;
    if (l.outcome !== "ok") {
      failed++;
      continue;
    }
    if (typeof l.ttft_ms === "number") ttft.record(l.ttft_ms);
    if (typeof l.e2e_ms === "number") e2e.record(l.e2e_ms);
  }
  return { log: path, n, failed, ttft_ms: ttft.stats(), e2e_ms: e2e.stats() };
}
