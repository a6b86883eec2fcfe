import type { MemoryOutcome, MemoryTask } from "./memory-worker.js";
import { runWorker, startEmitter } from "./processes.js";

/** 1,000,000 by default (the committed figures); BENCH_MEMORY_REQUESTS makes a quicker run. */
export const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 1_000_000);
/** Many short streams at once: the most requests per second, so the most records to keep or drop. */
const SETUP = { streams: 256, tokens_per_request: 3, target_mb: 200 };

export type MemoryResult = typeof SETUP & MemoryOutcome;

/** RSS of the bench client over MEMORY_REQUESTS short streams from the fast emitter. */
export async function memory(requests = MEMORY_REQUESTS): Promise<MemoryResult> {
  const tokens = String(SETUP.tokens_per_request);
  const emitter = await startEmitter("fast-emitter", { EMIT_TOKENS: tokens, EMIT_ITL_MS: "0" });
  try {
    const task: MemoryTask = {
      url: `http://127.0.0.1:${emitter.port}/v1`,
      requests,
      streams: SETUP.streams,
      maxTokens: SETUP.tokens_per_request,
      sampleMs: 1000,
    };
    return { ...SETUP, ...(await runWorker<MemoryOutcome>("memory-worker", task)) };
  } finally {
    await emitter.stop();
  }
}
