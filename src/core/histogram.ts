import hdr from "hdr-histogram-js";

/** Percentiles and moments of one distribution, in the unit it was recorded in (ms unless named). */
export interface Stats {
  count: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p99_9: number;
}

/** Values are stored as integers of 1/SCALE of a unit (microseconds for ms) to keep 3 significant digits. */
const SCALE = 1000;

/**
 * A mergeable distribution: percentiles from an HDR histogram (3 significant digits), with exact
 * count, sum, sum of squares, min and max kept beside it so mean and stddev carry no bucket error.
 * Serialises to a compact base64 string so runs from several processes merge exactly.
 */
export class Distribution {
  private readonly hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2 * SCALE,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
  count = 0;
  sum = 0;
  sumSquares = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  record(value: number, times = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) return; // negative or NaN: a clock bug, never a sample
    this.hist.recordValueWithCount(Math.round(value * SCALE), times);
    this.count += times;
    this.sum += value * times;
    this.sumSquares += value * value * times;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  merge(other: Distribution): void {
    if (other.count === 0) return;
    this.hist.add(other.hist);
    this.count += other.count;
    this.sum += other.sum;
    this.sumSquares += other.sumSquares;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    // Clamp: HDR reports the bucket's upper edge, which can exceed the true extreme.
    const v = this.hist.getValueAtPercentile(p) / SCALE;
    return Math.min(Math.max(v, this.min), this.max);
  }

  /**
   * `counts`: the values are whole numbers (tokens, stalls), so are their percentiles. HDR's bucket
   * edge for 276 reads 276.223; rounded, it is exact up to 2,048 and within 3 significant digits past it.
   */
  private at(p: number, counts: boolean): number {
    const v = this.percentile(p);
    return counts ? Math.round(v) : v;
  }

  stats(counts = false): Stats {
    const n = this.count;
    if (n === 0) {
      const nan = Number.NaN;
      return {
        count: 0,
        mean: nan,
        stddev: nan,
        min: nan,
        max: nan,
        p50: nan,
        p90: nan,
        p95: nan,
        p99: nan,
        p99_9: nan,
      };
    }
    const mean = this.sum / n;
    const variance = Math.max(0, this.sumSquares / n - mean * mean);
    return {
      count: n,
      mean,
      stddev: Math.sqrt(variance),
      min: this.min,
      max: this.max,
      p50: this.at(50, counts),
      p90: this.at(90, counts),
      p95: this.at(95, counts),
      p99: this.at(99, counts),
      p99_9: this.at(99.9, counts),
    };
  }

  toJSON(): SerializedDistribution {
    return {
      count: this.count,
      sum: this.sum,
      sumSquares: this.sumSquares,
      min: this.count ? this.min : null,
      max: this.count ? this.max : null,
      hdr: this.count ? hdr.encodeIntoCompressedBase64(this.hist) : "",
    };
  }

  static fromJSON(s: SerializedDistribution): Distribution {
    const d = new Distribution();
    if (s.count === 0) return d;
    d.hist.add(hdr.decodeFromCompressedBase64(s.hdr, 32, false));
    d.count = s.count;
    d.sum = s.sum;
    d.sumSquares = s.sumSquares;
    d.min = s.min ?? Number.POSITIVE_INFINITY;
    d.max = s.max ?? Number.NEGATIVE_INFINITY;
    return d;
  }
}

export interface SerializedDistribution {
  count: number;
  sum: number;
  sumSquares: number;
  min: number | null;
  max: number | null;
  /** HdrHistogram V2 compressed base64 of the values in units of 1/1000. */
  hdr: string;
}
