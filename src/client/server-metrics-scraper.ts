import { request } from "undici";
import { readSnapshot, type ServerSnapshot } from "../core/server-families.js";

/** Fetches and reads an inference server's Prometheus /metrics; undefined when it cannot. */
export class ServerMetricsScraper {
  constructor(
    readonly url: string,
    private readonly modelName?: string,
    private readonly timeoutMs = 2000,
  ) {}

  async snapshot(): Promise<ServerSnapshot | undefined> {
    try {
      const res = await request(this.url, { headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
      const type = String(res.headers["content-type"] ?? "text/plain");
      // Prometheus text or OpenMetrics only: anything else (an SSE stream, HTML) is not read at all.
      if (res.statusCode !== 200 || !/^(text\/plain|application\/openmetrics-text)/.test(type)) {
        res.body.on("error", () => undefined); // destroying the body emits an abort error: expected here
        res.body.destroy();
        return undefined;
      }
      const text = await res.body.text();
      return readSnapshot(text, { modelName: this.modelName })?.snapshot;
    } catch {
      return undefined;
    }
  }
}
