import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { Clock } from "../src/client/clock.js";
import type { GenerationDispatcher } from "../src/client/dispatcher.js";
import type { RequestRecord } from "../src/core/record.js";
import { BenchRunner } from "../src/load/bench-run.js";
import { JsonlWriter } from "../src/output/run-files.js";
import { referenceStream, transportStream } from "./baseline-clients.js";
import { type LoopLag, watchLoop } from "./loop-lag.js";
import { r3 } from "./processes.js";
import { productDispatcher, productPlan } from "./product-plan.js";

/**
 * One client under test, in its own process (started by capacity.ts and proxy-overhead.ts):
 * - "window": `streams` closed-loop users for warmupMs + measureMs; counts the content events
 *   received in the measure window and watches this process's event loop over it;
 * - "level": one measured closed-loop level of the product's bench runner; its summary.
 * The streamslo client runs the whole bench path: BenchRunner, aggregates and requests.jsonl.
 */
export type ClientName = "streamslo" | "reference" | "transport";

export interface WindowTask {
  mode: "window";
  client: ClientName;
  url: string;
  streams: number;
  maxTokens: number;
  warmupMs: number;
  measureMs: number;
}

export interface LevelTask {
  mode: "level";
  url: string;
  streams: number;
  maxTokens: number;
  n: number;
}

export interface WindowResult extends LoopLag {
  events_per_s: number;
  /** Every event received, warm-up and the requests cut at the end included. */
  total_events: number;
  requests_per_s: number;
  /** CPU time of this process over the window's wall time (1 = one core busy). */
  cpu: number;
}

export interface LevelOutcome extends LoopLag {
  n: number;
  ok: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  tokens_per_s: number;
  requests_per_s: number;
}

const clock = new Clock();
/** The baseline clients are undici-based by definition; the product uses its own pool. */
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
let product: GenerationDispatcher | undefined;
const productFor = (url: string) => {
  product ??= productDispatcher(url);
  return product;
};
const dir = mkdtempSync(join(tmpdir(), "streamslo-bench-"));
const jsonl = new JsonlWriter(join(dir, "requests.jsonl"));

/** The measure window on the run clock, with the loop watched and CPU timed over the same span. */
class Window {
  events = 0;
  total = 0;
  requests = 0;
  from = Number.POSITIVE_INFINITY;
  to = Number.POSITIVE_INFINITY;
  private watch?: ReturnType<typeof watchLoop>;
  private cpu0?: NodeJS.CpuUsage;
  private cpuS = 0;
  private lag?: LoopLag;

  constructor(warmupMs: number, measureMs: number, onClose: () => void) {
    setTimeout(() => {
      this.from = clock.now();
      this.cpu0 = process.cpuUsage();
      this.watch = watchLoop();
    }, warmupMs);
    setTimeout(() => {
      this.to = clock.now();
      const cpu = process.cpuUsage(this.cpu0);
      this.cpuS = (cpu.user + cpu.system) / 1e6;
      this.lag = this.watch?.stop();
      onClose();
    }, warmupMs + measureMs);
  }

  inside(t: number): boolean {
    return t >= this.from && t < this.to;
  }

  /** Call once every event is counted (records of requests cut at the window's end come later). */
  result(): WindowResult {
    const s = (this.to - this.from) / 1000;
    return {
      ...(this.lag as LoopLag),
      events_per_s: Math.round(this.events / s),
      total_events: this.total,
      requests_per_s: Math.round(this.requests / s),
      cpu: r3(this.cpuS / s),
    };
  }
}

async function runWindow(t: WindowTask): Promise<WindowResult> {
  const stop = new AbortController();
  const w = new Window(t.warmupMs, t.measureMs, () => stop.abort());
  const plan = productPlan(t.url, { n: Number.MAX_SAFE_INTEGER, warmup: 0, maxTokens: t.maxTokens });
  const url = new URL(`${plan.send.endpoint.origin}${plan.send.endpoint.path}`);
  const body = JSON.stringify({ model: "bench", max_tokens: t.maxTokens, stream: true, messages: [] });
  const baseline = async (send: () => Promise<void>) => {
    while (!stop.signal.aborted) {
      await send();
      if (w.inside(clock.now())) w.requests++;
    }
  };
  if (t.client === "streamslo") {
    const hooks = {
      onRecord: (rec: RequestRecord) => {
        jsonl.write(rec);
        // Counted by recorded arrival time, so the events of requests cut at the window's end count too.
        for (const at of rec.chunkTimesMs) if (w.inside(at)) w.events++;
        w.total += rec.chunkTimesMs.length;
        if (rec.outcome === "ok" && rec.endMs !== undefined && w.inside(rec.endMs)) w.requests++;
      },
    };
    const runner = new BenchRunner(plan, productFor(t.url), clock, hooks, stop.signal);
    await runner.runLevel({ kind: "concurrency", concurrency: t.streams });
  } else if (t.client === "reference") {
    const onEvent = () => {
      w.total++;
      if (w.inside(clock.now())) w.events++;
    };
    const user = () => baseline(() => referenceStream(agent, url.href, body, onEvent));
    await Promise.all(Array.from({ length: t.streams }, user));
  } else {
    const onEvents = (n: number) => {
      w.total += n;
      if (w.inside(clock.now())) w.events += n;
    };
    const user = () => baseline(() => transportStream(agent, url, body, onEvents));
    await Promise.all(Array.from({ length: t.streams }, user));
  }
  return w.result();
}

async function runLevel(t: LevelTask): Promise<LevelOutcome> {
  const plan = productPlan(t.url, { n: t.n, warmup: t.streams, maxTokens: t.maxTokens });
  const runner = new BenchRunner(plan, productFor(t.url), clock, { onRecord: (rec) => jsonl.write(rec) });
  const watch = watchLoop();
  const r = await runner.runLevel({ kind: "concurrency", concurrency: t.streams });
  const lag = watch.stop();
  const s = r?.summary;
  if (!s) throw new Error("no level result");
  return {
    n: s.n,
    ok: s.ok,
    ttft_p50_ms: r3(s.ttft_ms.p50),
    ttft_p99_ms: r3(s.ttft_ms.p99),
    e2e_p50_ms: r3(s.e2e_ms.p50),
    e2e_p99_ms: r3(s.e2e_ms.p99),
    tokens_per_s: Math.round(s.output_token_throughput),
    requests_per_s: Math.round(s.request_throughput),
    ...lag,
  };
}

const task = JSON.parse(process.argv[2] ?? "{}") as WindowTask | LevelTask;
try {
  const out = task.mode === "window" ? await runWindow(task) : await runLevel(task);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  jsonl.close();
  await agent.close();
  await product?.close();
  rmSync(dir, { recursive: true, force: true });
}
