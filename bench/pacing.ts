import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Agent } from "undici";
import { Clock } from "../src/client/clock.js";
import { resolveEndpoint } from "../src/client/endpoint.js";
import { BenchRunner } from "../src/load/bench-run.js";

export interface PacingRow {
  offered_rate: number;
  requests: number;
  achieved_rate: number;
  achieved_over_offered: number;
  send_lag_p50_ms: number;
  send_lag_p99_ms: number;
  send_lag_max_ms: number;
}

/** Open-loop pacing at `rate` req/s against a one-token emitter: does the client keep the schedule? */
export async function pacingAt(rate: number, seconds: number): Promise<PacingRow> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./emitter.js", import.meta.url))], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, EMIT_TOKENS: "1", EMIT_TTFT_MS: "0" },
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  const agent = new Agent({ connections: null, keepAliveTimeout: 60_000 });
  const endpoint = resolveEndpoint(`http://127.0.0.1:${port}/v1`, "chat");
  const n = Math.round(rate * seconds);
  try {
    const runner = new BenchRunner(
      {
        generation: { api: "chat", model: "m", stream: true, ignoreEos: false },
        send: { endpoint, stream: true, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 },
        workload: { prompts: { kind: "fixed", text: "x" }, maxTokens: 1, seed: 1 },
        n,
        warmup: Math.ceil(rate / 2),
        arrivals: { process: "constant", burstiness: 1, rampUpS: 0 },
      },
      agent,
      new Clock(),
    );
    const r = await runner.runLevel({ kind: "rate", rate });
    const s = r?.summary;
    if (!s) throw new Error("no level result");
    const r3 = (x: number) => Number(x.toFixed(3));
    return {
      offered_rate: rate,
      requests: s.n,
      achieved_rate: r3(s.achieved_rate),
      achieved_over_offered: r3(s.achieved_rate / rate),
      send_lag_p50_ms: r3(s.send_lag_ms.p50),
      send_lag_p99_ms: r3(s.send_lag_ms.p99),
      send_lag_max_ms: r3(s.send_lag_ms.max),
    };
  } finally {
    await agent.close();
    child.kill();
  }
}
