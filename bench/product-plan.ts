import { type GenerationDispatcher, generationDispatcher } from "../src/client/dispatcher.js";
import { resolveEndpoint } from "../src/client/endpoint.js";
import type { BenchPlan } from "../src/load/bench-run.js";

/** A bench plan as `streamslo bench --url <url>` builds it: chat, streaming, one short fixed prompt. */
export function productPlan(
  url: string,
  o: Pick<BenchPlan, "n" | "warmup"> & { maxTokens: number },
): BenchPlan {
  const endpoint = resolveEndpoint(url, "chat");
  return {
    generation: { api: "chat", model: "bench", stream: true, ignoreEos: false },
    send: { endpoint, stream: true, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 },
    workload: { prompts: { kind: "fixed", text: "x" }, maxTokens: o.maxTokens, seed: 1 },
    n: o.n,
    warmup: o.warmup,
    arrivals: { process: "constant", burstiness: 1, rampUpS: 0 },
  };
}

/** The connection pool the bench command uses for `url`. */
export function productDispatcher(url: string): GenerationDispatcher {
  return generationDispatcher(new URL(url).origin);
}
