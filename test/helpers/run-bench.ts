import { Agent } from "undici";
import { Clock } from "../../src/client/clock.js";
import { resolveEndpoint } from "../../src/client/endpoint.js";
import type { LevelSummary } from "../../src/core/level-aggregate.js";
import type { RequestRecord } from "../../src/core/record.js";
import { type BenchResult, runBench } from "../../src/load/bench-run.js";

export interface QuickBench {
  result: BenchResult;
  records: RequestRecord[];
  level(c: number): LevelSummary;
}

/** Runs the library's bench against `url` with small defaults; keeps every record for inspection. */
export async function quickBench(
  url: string,
  concurrencies: number[],
  n: number,
  o: {
    maxTokens?: number;
    ignoreEos?: boolean;
    stream?: boolean;
    inputTokens?: number;
    signal?: AbortSignal;
  } = {},
): Promise<QuickBench> {
  const endpoint = resolveEndpoint(url, "chat");
  const stream = o.stream ?? true;
  const agent = new Agent({ connections: null });
  const records: RequestRecord[] = [];
  try {
    const result = await runBench(
      {
        generation: {
          api: "chat",
          model: "streamslo-sim",
          stream,
          maxTokens: o.maxTokens ?? 32,
          ignoreEos: o.ignoreEos ?? true,
        },
        send: { endpoint, stream, headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000 },
        prompt: o.inputTokens
          ? { kind: "synthetic", inputTokens: o.inputTokens, seed: 1 }
          : { kind: "fixed", text: "hello there" },
        concurrencies,
        n,
        warmup: 0,
      },
      agent,
      new Clock(),
      { onRecord: (r) => records.push(r) },
      o.signal,
    );
    return {
      result,
      records,
      level: (c) => {
        const l = result.levels.find((x) => x.concurrency === c);
        if (!l) throw new Error(`no level c=${c}`);
        return l;
      },
    };
  } finally {
    await agent.close();
  }
}
