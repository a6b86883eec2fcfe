import { Clock } from "../src/client/clock.js";
import { BenchRunner } from "../src/load/bench-run.js";
import { r3, startEmitter } from "./processes.js";
import { productDispatcher, productPlan } from "./product-plan.js";

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
  const emitter = await startEmitter("emitter", { EMIT_TOKENS: "1", EMIT_TTFT_MS: "0" });
  const agent = productDispatcher(`http://127.0.0.1:${emitter.port}/v1`);
  const n = Math.round(rate * seconds);
  try {
    const runner = new BenchRunner(
      productPlan(`http://127.0.0.1:${emitter.port}/v1`, { n, warmup: Math.ceil(rate / 2), maxTokens: 1 }),
      agent,
      new Clock(),
    );
    const r = await runner.runLevel({ kind: "rate", rate });
    const s = r?.summary;
    if (!s || s.achieved_rate === null) throw new Error("no level result with two sends or more");
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
    await emitter.stop();
  }
}
