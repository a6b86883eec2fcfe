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
  private scraping = false;

  /**
   * 200 ms: once a second read "peak running 1" on c=4 levels shorter than ~1.8 s (a 10 Hz poll saw
   * 4); five times a second samples such a level 9 times, and costs a server a small text page each.
   */
  constructor(
    private readonly scraper: ServerMetricsScraper,
    private readonly intervalMs = 200,
  ) {}

  async start(): Promise<void> {
    this.readings = [];
    this.before = await this.scraper.snapshot();
    if (this.before) this.readings.push(this.before.gauges);
    this.timer = setInterval(() => {
      // One scrape at a time: a tick that finds one still running is skipped, so a slow /metrics
      // is never sent more requests than it answers.
      if (this.scraping) return;
      this.scraping = true;
      this.pending = this.scraper
        .snapshot()
        .then((s) => {
          if (s) this.readings.push(s.gauges);
        })
        .catch(() => undefined)
        .finally(() => {
          this.scraping = false;
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
