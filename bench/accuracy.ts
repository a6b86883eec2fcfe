import { Agent } from "undici";
import { Clock } from "../src/client/clock.js";
import { resolveEndpoint } from "../src/client/endpoint.js";
import { sendGeneration } from "../src/client/generation-client.js";
import { Distribution } from "../src/core/histogram.js";
import { r3, startEmitter } from "./processes.js";

export interface AccuracyRow {
  streams: number;
  /** Whether the streams' tokens were spread over the ITL, or all emitted in the same tick. */
  staggered: boolean;
  tokens: number;
  /** Arrival minus emission, per token (ms): what the client adds to what it measures. */
  delivery_p50_ms: number;
  delivery_p99_ms: number;
  delivery_max_ms: number;
  /** Measured minus emitted gap between consecutive tokens (ms, absolute value). */
  itl_error_p50_ms: number;
  itl_error_p99_ms: number;
  itl_error_max_ms: number;
  /** First token: arrival minus emission (ms). */
  ttft_error_p99_ms: number;
}

/** Runs `streams` concurrent streams once and compares every token's arrival with its emission. */
export async function accuracyAt(streams: number, staggered: boolean): Promise<AccuracyRow> {
  const emitter = await startEmitter("emitter", { EMIT_STAGGER: staggered ? "1" : "0" });
  const agent = new Agent({ connections: null, keepAliveTimeout: 60_000 });
  const clock = new Clock();
  const base = performance.timeOrigin + clock.originMs;
  const endpoint = resolveEndpoint(`http://127.0.0.1:${emitter.port}/v1`, "chat");
  const delivery = new Distribution();
  const itlError = new Distribution();
  const ttftError = new Distribution();
  let tokens = 0;
  try {
    const opts = { endpoint, stream: true, headersTimeoutMs: 60_000, bodyTimeoutMs: 60_000, keepText: true };
    const records = await Promise.all(
      Array.from({ length: streams }, (_, i) =>
        sendGeneration(agent, clock, opts, "{}", {
          id: `a${i}`,
          scenario: "accuracy",
          phase: "measure",
          intendedStartMs: 0,
        }),
      ),
    );
    for (const r of records) {
      const emitted = (r.text ?? "").split(";").filter(Boolean).map(Number);
      // Each content chunk is one emission; chunks that arrive in one read share its arrival time.
      const arrivals = r.chunkTimesMs.map((t) => base + t);
      const count = Math.min(emitted.length, arrivals.length);
      for (let i = 0; i < count; i++) {
        const d = (arrivals[i] as number) - (emitted[i] as number);
        delivery.record(Math.max(0, d));
        if (i === 0) ttftError.record(Math.max(0, d));
        if (i > 0) {
          const gapErr = Math.abs(
            (arrivals[i] as number) -
              (arrivals[i - 1] as number) -
              ((emitted[i] as number) - (emitted[i - 1] as number)),
          );
          itlError.record(gapErr);
        }
      }
      tokens += count;
    }
  } finally {
    await agent.close();
    await emitter.stop();
  }
  return {
    streams,
    staggered,
    tokens,
    delivery_p50_ms: r3(delivery.percentile(50)),
    delivery_p99_ms: r3(delivery.percentile(99)),
    delivery_max_ms: r3(delivery.max),
    itl_error_p50_ms: r3(itlError.percentile(50)),
    itl_error_p99_ms: r3(itlError.percentile(99)),
    itl_error_max_ms: r3(itlError.max),
    ttft_error_p99_ms: r3(ttftError.percentile(99)),
  };
}
