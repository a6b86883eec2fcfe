import type { ServerMetricsScraper } from "../client/server-metrics-scraper.js";
import type { ServerView } from "../core/report/report-input.js";
import type { GaugeReading, ServerSnapshot } from "../core/server-families.js";
import { serverMetricsDelta } from "../core/server-metrics-delta.js";
import { serverView } from "../core/server-view.js";

/**
 * Watches the server's own metrics through one level: a snapshot before, gauge readings every
 * `intervalMs` (peaks of queue and KV cache), a snapshot after; the difference is the level's.
 */
export class ServerObserver {
  private before?: ServerSnapshot;
  private readings: GaugeReading[] = [];
  private timer?: NodeJS.Timeout;
  private pending = Promise.resolve();

  constructor(
    private readonly scraper: ServerMetricsScraper,
    private readonly intervalMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.readings = [];
    this.before = await this.scraper.snapshot();
    if (this.before) this.readings.push(this.before.gauges);
    this.timer = setInterval(() => {
      // One scrape at a time: a slow /metrics must not pile requests onto the server.
      this.pending = this.pending.then(async () => {
        const s = await this.scraper.snapshot();
        if (s) this.readings.push(s.gauges);
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async finish(): Promise<ServerView | undefined> {
    clearInterval(this.timer);
    await this.pending;
    const after = await this.scraper.snapshot();
    if (!this.before || !after || after.family !== this.before.family) return undefined;
    this.readings.push(after.gauges);
    return serverView(serverMetricsDelta(this.before, after, this.readings));
  }
}
