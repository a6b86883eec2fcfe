import type { Clock } from "../client/clock.js";
import type { GenerationDispatcher } from "../client/dispatcher.js";
import { type SendOptions, sendGeneration } from "../client/generation-client.js";
import { buildRequestBody, type GenerationParams } from "../client/request-body.js";
import { Distribution, type Stats } from "../core/histogram.js";
import type { RequestRecord } from "../core/record.js";
import { requestInput, type Workload } from "../core/workload.js";

/** Plain-HTTP reference points, measured one request at a time before any load. */
export interface Baseline {
  /** The same requests without streaming: what a non-streaming client waits. */
  plain_wall_ms: Stats;
  /** One-token answers without streaming: fixed HTTP + prefill overhead. */
  tiny_wall_ms: Stats;
  /** Streaming one-token answers: TTFT with nothing queued. */
  tiny_ttft_ms: Stats;
}

/**
 * Sends `n` non-streaming requests like the workload's, `n` non-streaming one-token requests and
 * `n` streaming one-token requests, sequentially, so the report can separate fixed overhead from
 * model time. Records go to `onRecord` with phase "baseline"; they never enter level statistics.
 */
export async function measureBaseline(
  n: number,
  generation: GenerationParams,
  send: Omit<SendOptions, "signal">,
  workload: Workload,
  dispatcher: GenerationDispatcher,
  clock: Clock,
  onRecord: (r: RequestRecord) => void,
  signal?: AbortSignal,
): Promise<Baseline | undefined> {
  const plain = new Distribution();
  const tiny = new Distribution();
  const tinyTtft = new Distribution();
  const kinds = [
    { dist: plain, stream: false, maxTokens: undefined },
    { dist: tiny, stream: false, maxTokens: 1 },
    { dist: tinyTtft, stream: true, maxTokens: 1 },
  ];
  let index = 0;
  for (const k of kinds) {
    for (let i = 0; i < n && !signal?.aborted; i++) {
      const input = requestInput(workload, i);
      const body = buildRequestBody(
        { ...generation, stream: k.stream },
        k.maxTokens ? { prompt: input.prompt, maxTokens: k.maxTokens, exact: false } : input,
      );
      const meta = {
        id: `b${index++}`,
        scenario: "baseline",
        phase: "baseline" as const,
        intendedStartMs: clock.now(),
      };
      const rec = await sendGeneration(dispatcher, clock, { ...send, stream: k.stream, signal }, body, meta);
      onRecord(rec);
      if (rec.outcome !== "ok" || rec.endMs === undefined) continue;
      const value = k.stream ? (rec.firstContentMs ?? rec.endMs) - rec.startMs : rec.endMs - rec.startMs;
      k.dist.record(value);
    }
  }
  if (plain.count === 0 && tiny.count === 0) return undefined;
  return { plain_wall_ms: plain.stats(), tiny_wall_ms: tiny.stats(), tiny_ttft_ms: tinyTtft.stats() };
}
