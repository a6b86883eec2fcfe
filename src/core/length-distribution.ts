import { normal } from "./arrivals.js";
import type { Rng } from "./rng.js";

/** A token-length distribution: fixed, uniform between two bounds, or normal (clamped to >= 1). */
export type LengthDistribution =
  | { kind: "fixed"; value: number }
  | { kind: "uniform"; min: number; max: number }
  | { kind: "normal"; mean: number; stddev: number };

export class LengthSpecError extends Error {}

/** Parses "128", "uniform:100:500" or "normal:300:50". */
export function parseLength(text: string): LengthDistribution {
  const parts = text.split(":");
  const nums = parts.slice(1).map(Number);
  const bad = () =>
    new LengthSpecError(
      `"${text}" is not a length: use N, uniform:MIN:MAX or normal:MEAN:STDDEV (whole tokens)`,
    );
  if (parts.length === 1) {
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1) throw bad();
    return { kind: "fixed", value: v };
  }
  if (nums.length !== 2 || nums.some((n) => !Number.isFinite(n) || n < 0)) throw bad();
  const [a, b] = nums as [number, number];
  if (parts[0] === "uniform" && Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= a) {
    return { kind: "uniform", min: a, max: b };
  }
  if (parts[0] === "normal" && a >= 1) return { kind: "normal", mean: a, stddev: b };
  throw bad();
}

export function sampleLength(d: LengthDistribution, rng: Rng): number {
  switch (d.kind) {
    case "fixed":
      return d.value;
    case "uniform":
      return d.min + Math.floor(rng() * (d.max - d.min + 1));
    case "normal":
      return Math.max(1, Math.round(d.mean + d.stddev * normal(rng)));
  }
}

export function meanLength(d: LengthDistribution): number {
  return d.kind === "fixed" ? d.value : d.kind === "uniform" ? (d.min + d.max) / 2 : d.mean;
}
