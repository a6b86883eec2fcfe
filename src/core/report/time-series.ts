import type { RequestRecord } from "../record.js";
import type { TimelineRequest, TimePoint } from "./report-input.js";

/**
 * Builds the run's time series from records in any order: requests in flight and tokens received
 * per second, in fixed bins. Memory grows with the run's length in bins, not with its requests.
 */
export class TimeSeriesBuilder {
  private readonly starts = new Map<number, number>();
  private readonly ends = new Map<number, number>();
  private readonly tokens = new Map<number, number>();
  private lastBin = 0;

  constructor(readonly binMs = 250) {}

  private bump(m: Map<number, number>, t: number, by = 1): void {
    const bin = Math.max(0, Math.floor(t / this.binMs));
    m.set(bin, (m.get(bin) ?? 0) + by);
    if (bin > this.lastBin) this.lastBin = bin;
  }

  add(r: RequestRecord): void {
    this.bump(this.starts, r.startMs);
    this.bump(this.ends, r.endMs ?? r.chunkTimesMs[r.chunkTimesMs.length - 1] ?? r.startMs);
    r.chunkTimesMs.forEach((t, i) => {
      this.bump(this.tokens, t, r.chunkTokens[i] ?? 1);
    });
  }

  /** In flight = started minus ended by the end of each bin. */
  result(): TimePoint[] {
    const out: TimePoint[] = [];
    let inFlight = 0;
    for (let b = 0; b <= this.lastBin; b++) {
      inFlight += (this.starts.get(b) ?? 0) - (this.ends.get(b) ?? 0);
      out.push({
        t_s: ((b + 1) * this.binMs) / 1000,
        in_flight: inFlight,
        tokens_per_s: ((this.tokens.get(b) ?? 0) * 1000) / this.binMs,
      });
    }
    return out;
  }
}

/** Keeps up to `max` requests for the timeline chart: every k-th, k doubling whenever it fills. */
export class TimelineSampler {
  private kept: TimelineRequest[] = [];
  private stride = 1;
  private seen = 0;

  constructor(private readonly max = 400) {}

  add(r: RequestRecord): void {
    const index = this.seen++;
    if (index % this.stride !== 0) return;
    this.kept.push({
      index,
      scenario: r.scenario,
      start_s: r.startMs / 1000,
      first_s: r.firstContentMs !== undefined ? r.firstContentMs / 1000 : undefined,
      end_s: (r.endMs ?? r.startMs) / 1000,
      outcome: r.outcome,
    });
    if (this.kept.length > this.max) {
      this.stride *= 2;
      this.kept = this.kept.filter((t) => t.index % this.stride === 0);
    }
  }

  result(): TimelineRequest[] {
    return this.kept;
  }
}
