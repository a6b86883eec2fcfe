import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Clock } from "../src/client/clock.js";
import { runBench } from "../src/load/bench-run.js";
import { JsonlWriter } from "../src/output/run-files.js";
import { r3 } from "./processes.js";
import { productDispatcher, productPlan } from "./product-plan.js";

/**
 * The client's memory over a long run, in its own process (started by memory.ts): runBench, one
 * closed-loop level, every record appended to requests.jsonl in a temporary run folder, as
 * `streamslo bench` does. RSS is sampled on a timer; the peak comes from the kernel (maxRSS).
 */
export interface MemoryTask {
  url: string;
  requests: number;
  streams: number;
  maxTokens: number;
  sampleMs: number;
}

export interface MemorySample {
  requests: number;
  rss_mb: number;
  heap_mb: number;
}

export interface MemoryOutcome {
  requests: number;
  ok: number;
  seconds: number;
  requests_per_s: number;
  rss_start_mb: number;
  rss_max_mb: number;
  rss_end_mb: number;
  heap_end_mb: number;
  /** Least-squares slope of RSS over requests done, after the first tenth of the run. */
  rss_slope_mb_per_100k: number;
  jsonl_mb: number;
  samples: MemorySample[];
}

const MB = 2 ** 20;
const task = JSON.parse(process.argv[2] ?? "{}") as MemoryTask;
const dir = mkdtempSync(join(tmpdir(), "streamslo-memory-"));
const jsonl = new JsonlWriter(join(dir, "requests.jsonl"));
const agent = productDispatcher(task.url);
const clock = new Clock();

function slope(points: MemorySample[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.requests, 0) / n;
  const my = points.reduce((a, p) => a + p.rss_mb, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.requests - mx) * (p.rss_mb - my);
    sxx += (p.requests - mx) ** 2;
  }
  return sxx > 0 ? (sxy / sxx) * 100_000 : 0;
}

/** At most `max` samples, evenly spaced, for results.json. */
function thin(samples: MemorySample[], max: number): MemorySample[] {
  if (samples.length <= max) return samples;
  return Array.from(
    { length: max },
    (_, i) => samples[Math.round((i * (samples.length - 1)) / (max - 1))] as MemorySample,
  );
}

try {
  let done = 0;
  const samples: MemorySample[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ requests: done, rss_mb: r3(m.rss / MB), heap_mb: r3(m.heapUsed / MB) });
  };
  sample();
  const timer = setInterval(sample, task.sampleMs);
  const t0 = performance.now();
  const plan = productPlan(task.url, { n: task.requests, warmup: task.streams, maxTokens: task.maxTokens });
  const result = await runBench(plan, [{ kind: "concurrency", concurrency: task.streams }], agent, clock, {
    onRecord: (rec) => {
      jsonl.write(rec);
      done++;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  const s = result.levels[0]?.summary;
  const steady = samples.filter((p) => p.requests >= task.requests / 10);
  const out: MemoryOutcome = {
    requests: s?.n ?? 0,
    ok: s?.ok ?? 0,
    seconds: r3(seconds),
    requests_per_s: Math.round((s?.n ?? 0) / seconds),
    rss_start_mb: samples[0]?.rss_mb ?? 0,
    rss_max_mb: r3((process.resourceUsage().maxRSS * 1024) / MB),
    rss_end_mb: samples[samples.length - 1]?.rss_mb ?? 0,
    heap_end_mb: samples[samples.length - 1]?.heap_mb ?? 0,
    rss_slope_mb_per_100k: r3(slope(steady)),
    jsonl_mb: r3(statSync(jsonl.path).size / MB),
    samples: thin(samples, 40),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  jsonl.close();
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
}
