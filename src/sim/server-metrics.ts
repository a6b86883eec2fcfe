import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BatchEngine } from "./engine.js";

/** vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), so scrapers see familiar histograms. */
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
  2560,
];
const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
const REQUEST_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/**
 * The simulator's Prometheus metrics under vLLM's names and `model_name` label, so tools built
 * for vLLM (including streamslo's own server-metric scraping) work against the simulator.
 */
export class SimMetrics {
  readonly registry = new Registry();
  readonly ttft: Histogram<"model_name">;
  readonly itl: Histogram<"model_name">;
  readonly tpot: Histogram<"model_name">;
  readonly e2e: Histogram<"model_name">;
  readonly queue: Histogram<"model_name">;
  readonly promptTokens: Counter<"model_name">;
  readonly generationTokens: Counter<"model_name">;
  readonly success: Counter<"model_name" | "finished_reason">;

  constructor(
    private readonly model: string,
    engine: BatchEngine,
  ) {
    const registers = [this.registry];
    const labelNames = ["model_name"] as const;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set({ model_name: model }, read());
        },
      });
    gauge(
      "vllm:num_requests_running",
      "Number of requests in model execution batches.",
      () => engine.numRunning,
    );
    gauge(
      "vllm:num_requests_waiting",
      "Number of requests waiting to be processed.",
      () => engine.numWaiting,
    );
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", () => engine.kvUsage);
    // vLLM's prefix-cache counters, in tokens: queried at admission, and found cached.
    const tokensCounter = (name: string, help: string, read: () => number) => {
      let seen = 0;
      return new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const now = read();
          this.inc({ model_name: model }, now - seen);
          seen = now;
        },
      });
    };
    tokensCounter(
      "vllm:prefix_cache_queries_total",
      "Prefix cache queries, in terms of number of queried tokens.",
      () => engine.prefixCache.queriedTokens,
    );
    tokensCounter(
      "vllm:prefix_cache_hits_total",
      "Prefix cache hits, in terms of number of cached tokens.",
      () => engine.prefixCache.hitTokens,
    );
    const hist = (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, labelNames, buckets, registers });
    this.ttft = hist(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TTFT_BUCKETS,
    );
    this.itl = hist(
      "vllm:inter_token_latency_seconds",
      "Histogram of inter-token latency in seconds.",
      ITL_BUCKETS,
    );
    this.tpot = hist(
      "vllm:request_time_per_output_token_seconds",
      "Histogram of time_per_output_token_seconds per request.",
      ITL_BUCKETS,
    );
    this.e2e = hist(
      "vllm:e2e_request_latency_seconds",
      "Histogram of e2e request latency in seconds.",
      REQUEST_BUCKETS,
    );
    this.queue = hist(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase.",
      REQUEST_BUCKETS,
    );
    this.promptTokens = new Counter({
      name: "vllm:prompt_tokens_total",
      help: "Number of prefill tokens processed.",
      labelNames,
      registers,
    });
    this.generationTokens = new Counter({
      name: "vllm:generation_tokens_total",
      help: "Number of generation tokens processed.",
      labelNames,
      registers,
    });
    this.success = new Counter({
      name: "vllm:request_success_total",
      help: "Count of successfully processed requests.",
      labelNames: ["model_name", "finished_reason"],
      registers,
    });
  }

  get labels(): { model_name: string } {
    return { model_name: this.model };
  }
}
