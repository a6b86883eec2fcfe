import { Clock } from "../../src/client/clock.js";
import { type GenerationDispatcher, generationDispatcher } from "../../src/client/dispatcher.js";
import { resolveEndpoint } from "../../src/client/endpoint.js";
import type { LevelSummary } from "../../src/core/level-aggregate.js";
import type { RequestRecord } from "../../src/core/record.js";
import type { SloSpec } from "../../src/core/slo-spec.js";
import { type BenchPlan, BenchRunner, type LevelResult, type LoadLevel } from "../../src/load/bench-run.js";

export interface QuickBench {
  levels: LevelResult[];
  records: RequestRecord[];
  runner: BenchRunner;
  level(c: number): LevelSummary;
}

export interface QuickOptions {
  maxTokens?: number;
  exact?: boolean;
  stream?: boolean;
  inputTokens?: number;
  warmup?: number;
  slo?: SloSpec;
  plan?: Partial<BenchPlan>;
  signal?: AbortSignal;
}

/** A BenchRunner against `url` with small defaults; keeps every record for inspection. */
export function quickRunner(
  url: string,
  n: number,
  o: QuickOptions,
  records: RequestRecord[],
  agent: GenerationDispatcher,
): BenchRunner {
  const endpoint = resolveEndpoint(url, "chat");
  const stream = o.stream ?? true;
  return new BenchRunner(
    {
      generation: { api: "chat", model: "streamslo-sim", stream, ignoreEos: true },
      send: { endpoint, stream, headersTimeoutMs: 10_000, bodyTimeoutMs: 10_000, keepText: true },
      workload: {
        prompts: o.inputTokens
          ? { kind: "synthetic", input: { kind: "fixed", value: o.inputTokens } }
          : { kind: "fixed", text: "hello there" },
        output: o.exact === false ? undefined : { kind: "fixed", value: o.maxTokens ?? 32 },
        maxTokens: o.maxTokens ?? 32,
        seed: 1,
      },
      n,
      warmup: o.warmup ?? 0,
      arrivals: { process: "poisson", burstiness: 1, rampUpS: 0 },
      slo: o.slo,
      ...o.plan,
    },
    agent,
    new Clock(),
    { onRecord: (r) => records.push(r) },
    o.signal,
  );
}

/** Runs levels (numbers are concurrencies) with the library's BenchRunner. */
export async function quickBench(
  url: string,
  levels: (number | LoadLevel)[],
  n: number,
  o: QuickOptions = {},
): Promise<QuickBench> {
  const agent = generationDispatcher(new URL(url).origin);
  const records: RequestRecord[] = [];
  try {
    const runner = quickRunner(url, n, o, records, agent);
    const results: LevelResult[] = [];
    for (const l of levels) {
      const r = await runner.runLevel(typeof l === "number" ? { kind: "concurrency", concurrency: l } : l);
      if (r) results.push(r);
    }
    return {
      levels: results,
      records,
      runner,
      level: (c) => {
        const l = results.find((x) => x.summary.concurrency === c);
        if (!l) throw new Error(`no level c=${c}`);
        return l.summary;
      },
    };
  } finally {
    await agent.close();
  }
}
