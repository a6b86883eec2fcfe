/** Parses "300ms", "1.5s", "250us", "2m", "6h", "3d" or a bare number of ms into milliseconds. */
export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  switch (m[2]) {
    case "us":
    case "µs":
      return v / 1000;
    case "s":
      return v * 1000;
    case "m":
      return v * 60_000;
    case "h":
      return v * 3_600_000;
    case "d":
      return v * 86_400_000;
    default:
      return v;
  }
}
