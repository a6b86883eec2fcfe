import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";
import {
  MODEL_LABEL,
  PROXY_BUCKETS,
  PROXY_METRICS,
  PROXY_OUTCOMES,
  ROUTE_LABEL,
  SERVICE_LABEL,
  SLO_LABEL,
} from "../core/slo/conventions.js";
import type { LiveBurn } from "../core/slo/live-burn.js";
import { GapHistogram } from "./gap-histogram.js";

const LABELS = [SERVICE_LABEL, MODEL_LABEL, ROUTE_LABEL] as const;
type Labels = Record<(typeof LABELS)[number], string>;

/**
 * Outcome and status pairs the SLI rules count, made at 0 for every model and route: a series born
 * at its first value hides that value from rate() and increase(), so a first burst of errors of a
 * kind not seen before would reach no alert. Other statuses (a rare 5xx) are born at first use.
 */
const PRIMED_OUTCOMES: readonly (readonly [string, string])[] = [
  ["ok", "200"],
  ["upstream_drop", "200"],
  ["upstream_error", "500"],
  ["upstream_error", "502"],
  ["upstream_error", "503"],
  ["upstream_error", "504"],
  ["timeout", "504"],
  ["rejected", "429"],
  ["rejected", "503"],
  ["client_disconnect", "0"],
  ["client_disconnect", "200"],
];

/**
 * The proxy's Prometheus metrics (names and buckets in core/slo/conventions.ts, shared with the
 * rules and dashboards). Histograms carry trace_id exemplars when scraped as OpenMetrics.
 */
export class ProxyMetrics {
  readonly registry = new Registry<RegistryContentType>();
  readonly requests: Counter<string>;
  readonly breaks: Counter<string>;
  readonly ttft: Histogram<string>;
  readonly tpot: Histogram<string>;
  readonly itl: GapHistogram;
  readonly e2e: Histogram<string>;
  readonly outputTokens: Histogram<string>;
  readonly httpDuration: Histogram<string>;
  readonly sloGood: Counter<string>;
  readonly sloTotal: Counter<string>;
  private active = 0;
  private peak = 0;
  /** Scrapes in turn: the format is the registry's state while one is rendered. */
  private rendering: Promise<unknown> = Promise.resolve();

  /** criteria: the goodput criteria the proxy counts ("all", then "ttft", ...), made at 0 with the rest. */
  constructor(
    readonly service: string,
    readonly criteria: readonly string[] = ["all"],
  ) {
    // OpenMetrics while the metrics are made, so histograms may carry exemplars; each scrape picks its format.
    this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registers = [this.registry];
    const labelNames = [...LABELS];
    const hist = (name: string, help: string, buckets: readonly number[]) =>
      new Histogram({ name, help, labelNames, buckets: [...buckets], registers, enableExemplars: true });
    this.requests = new Counter({
      name: PROXY_METRICS.requests,
      help: `LLM requests through the proxy, by outcome (${PROXY_OUTCOMES.join(", ")}).`,
      labelNames: [...labelNames, "outcome", "status"],
      registers,
    });
    this.breaks = new Counter({
      name: "streamslo_stream_breaks_total",
      help: "Streams that ended early, by cause.",
      labelNames: [...labelNames, "cause"],
      registers,
    });
    this.ttft = hist(PROXY_METRICS.ttft, "Time to first content token, seconds.", PROXY_BUCKETS.ttft);
    this.tpot = hist(
      PROXY_METRICS.tpot,
      "Time per output token after the first, seconds.",
      PROXY_BUCKETS.tpot,
    );
    this.itl = new GapHistogram(
      PROXY_METRICS.itl,
      "Gaps between content chunks, seconds.",
      PROXY_BUCKETS.itl,
      this.registry,
    );
    this.e2e = hist(PROXY_METRICS.e2e, "Request to end of the response body, seconds.", PROXY_BUCKETS.e2e);
    this.outputTokens = hist(
      PROXY_METRICS.outputTokens,
      "Output tokens per request.",
      PROXY_BUCKETS.outputTokens,
    );
    this.httpDuration = new Histogram({
      name: "streamslo_http_request_duration_seconds",
      help: "Other requests through the proxy (not LLM generations), seconds to the end of the body.",
      labelNames: [...labelNames, "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.sloGood = new Counter({
      name: PROXY_METRICS.sloGood,
      help: "Requests that met an SLO criterion (criterion=all: every one: goodput).",
      labelNames: [...labelNames, "criterion"],
      registers,
    });
    this.sloTotal = new Counter({
      name: PROXY_METRICS.sloTotal,
      help: "Requests judged against an SLO criterion.",
      labelNames: [...labelNames, "criterion"],
      registers,
    });
    const self = this;
    new Gauge({
      name: PROXY_METRICS.activeStreams,
      help: "Streams in flight now.",
      labelNames: [SERVICE_LABEL],
      registers,
      collect() {
        this.set({ [SERVICE_LABEL]: self.service }, self.active);
      },
    });
    // The plain gauge misses streams that start and end between scrapes; the peak since the last
    // scrape does not (reset once read), so autoscalers see bursts of short streams.
    new Gauge({
      name: PROXY_METRICS.activeStreamsPeak,
      help: "Most streams in flight at once since the previous scrape.",
      labelNames: [SERVICE_LABEL],
      registers,
      collect() {
        this.set({ [SERVICE_LABEL]: self.service }, self.peak);
        self.peak = self.active;
      },
    });
  }

  /** Burn-rate and budget gauges computed in the process (when the proxy is given production SLOs). */
  exportLiveBurn(live: LiveBurn, now: () => number): void {
    const registers = [this.registry];
    const service = this.service;
    new Gauge({
      name: PROXY_METRICS.liveBurnRate,
      help: "Error ratio over the window / error budget, from the requests this process saw (windows as in the alert rules).",
      labelNames: [SERVICE_LABEL, SLO_LABEL, "window"],
      registers,
      collect() {
        for (const b of live.burnRates(now()))
          this.set({ [SERVICE_LABEL]: service, [SLO_LABEL]: b.slo, window: b.window }, b.value);
      },
    });
    new Gauge({
      name: PROXY_METRICS.liveBudgetRemaining,
      help: "Share of the error budget left, from the requests this process saw since it started.",
      labelNames: [SERVICE_LABEL, SLO_LABEL],
      registers,
      collect() {
        for (const slo of live.slos)
          this.set({ [SERVICE_LABEL]: service, [SLO_LABEL]: slo.name }, live.budgetRemaining(slo));
      },
    });
  }

  labels(model: string, route: string): Labels {
    return { [SERVICE_LABEL]: this.service, [MODEL_LABEL]: model, [ROUTE_LABEL]: route } as Labels;
  }

  /**
   * Makes a model label's SLI series at 0 on every LLM route, before their first event: at start for
   * every label a generation can get, then for each model the upstream adds.
   */
  prime(model: string, routes: Iterable<string>): void {
    for (const route of routes) this.primeSeries(this.labels(model, route));
  }

  private primeSeries(labels: Labels): void {
    for (const [outcome, status] of PRIMED_OUTCOMES) this.requests.inc({ ...labels, outcome, status }, 0);
    for (const criterion of this.criteria) {
      this.sloGood.inc({ ...labels, criterion }, 0);
      this.sloTotal.inc({ ...labels, criterion }, 0);
    }
    for (const h of [this.ttft, this.tpot, this.e2e]) h.zero(labels);
    this.itl.zero(labels);
  }

  streamStarted(): void {
    this.active++;
    if (this.active > this.peak) this.peak = this.active;
  }

  streamEnded(): void {
    this.active--;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Prometheus text by default; OpenMetrics (with exemplars) when the scraper asks for it. */
  exposition(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const openMetrics = accept?.includes("application/openmetrics-text") ?? false;
    const next = this.rendering.then(() => this.render(openMetrics));
    this.rendering = next.catch(() => undefined);
    return next;
  }

  private async render(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const counters = [this.requests, this.breaks, this.sloGood, this.sloTotal] as unknown as {
      name: string;
    }[];
    const names = counters.map((c) => c.name);
    this.registry.setContentType(
      openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE,
    );
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      // prom-client 15 strips "_total" from a counter's own name when it renders OpenMetrics (and adds it
      // back on each sample), so the next plain-text scrape would print streamslo_requests{...}.
      counters.forEach((c, i) => {
        c.name = names[i] as string;
      });
    }
  }
}
