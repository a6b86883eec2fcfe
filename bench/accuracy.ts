import { request } from "undici";
import { Clock } from "../src/client/clock.js";
import { generationDispatcher } from "../src/client/dispatcher.js";
import { resolveEndpoint } from "../src/client/endpoint.js";
import { type SendOptions, sendGeneration } from "../src/client/generation-client.js";
import { Distribution } from "../src/core/histogram.js";
import type { RequestRecord } from "../src/core/record.js";
import { r3, startEmitter } from "./processes.js";

export interface AccuracyRow {
  streams: number;
  /** Whether the streams' tokens were spread over the ITL, or all emitted in the same tick. */
  staggered: boolean;
  /** Rounds of `streams` concurrent requests measured (after one unmeasured warm-up round). */
  rounds: number;
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

/** Tokens per stream; with 20 ms between them a round lasts about 2 s. */
const TOKENS = 100;
/** Measured rounds: at least two, and at least 1,000 tokens behind each level's p99. */
const roundsFor = (streams: number) => Math.max(2, Math.ceil(1000 / (streams * TOKENS)));

/**
 * Runs `streams` concurrent streams for a few rounds and compares every token's arrival, as the
 * product's client records it (its default path: no text kept), with its emission.
 */
export async function accuracyAt(streams: number, staggered: boolean): Promise<AccuracyRow> {
  const emitter = await startEmitter("emitter", {
    EMIT_STAGGER: staggered ? "1" : "0",
    EMIT_TOKENS: String(TOKENS),
  });
  const agent = generationDispatcher(`http://127.0.0.1:${emitter.port}`);
  const clock = new Clock();
  const base = performance.timeOrigin + clock.originMs;
  const origin = `http://127.0.0.1:${emitter.port}`;
  const opts: SendOptions = {
    endpoint: resolveEndpoint(`${origin}/v1`, "chat"),
    stream: true,
    headersTimeoutMs: 60_000,
    bodyTimeoutMs: 60_000,
  };
  const delivery = new Distribution();
  const itlError = new Distribution();
  const ttftError = new Distribution();
  const rounds = roundsFor(streams);
  let tokens = 0;
  const round = (r: number) =>
    Promise.all(
      Array.from({ length: streams }, (_, i) => {
        const id = `${r}-${i}`;
        // Warm-up requests carry no id, so the emitter keeps no times for them.
        const user = r < 0 ? undefined : id;
        const body = JSON.stringify({ model: "bench", stream: true, user, messages: [] });
        return sendGeneration(agent, clock, opts, body, {
          id,
          scenario: "accuracy",
          phase: "measure",
          intendedStartMs: clock.now(),
        });
      }),
    );
  const compare = (rec: RequestRecord, emitted: number[]) => {
    const count = Math.min(emitted.length, rec.chunkTimesMs.length);
    let prevArrival = 0;
    for (let i = 0; i < count; i++) {
      const arrival = base + (rec.chunkTimesMs[i] as number);
      const d = arrival - (emitted[i] as number);
      delivery.record(Math.max(0, d));
      if (i === 0) ttftError.record(Math.max(0, d));
      else
        itlError.record(
          Math.abs(arrival - prevArrival - ((emitted[i] as number) - (emitted[i - 1] as number))),
        );
      prevArrival = arrival;
    }
    tokens += count;
  };
  try {
    await round(-1); // warm-up: connections, JIT; not measured
    const records: RequestRecord[] = [];
    for (let r = 0; r < rounds; r++) records.push(...(await round(r)));
    // The emission times are fetched once, after the last round. Fetched between rounds on the
    // client's own thread (undici, 0.5 MB of JSON at 256 streams), they deoptimized code the client's
    // reads share (Buffer's getEncodingOps, on the path of each chunk-size line), and the next round's
    // first tokens met the recompiling.
    const res = await request(`${origin}/emissions`);
    const emissions = (await res.body.json()) as Record<string, number[]>;
    for (const rec of records) {
      if (rec.outcome !== "ok") throw new Error(`accuracy request ${rec.id}: ${rec.outcome}`);
      const emitted = emissions[rec.id];
      // A request the emitter did not log would count no tokens and flatter the figures.
      if (!emitted) throw new Error(`accuracy request ${rec.id}: the emitter has no emission times`);
      compare(rec, emitted);
    }
  } finally {
    await agent.close();
    await emitter.stop();
  }
  return {
    streams,
    staggered,
    rounds,
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
