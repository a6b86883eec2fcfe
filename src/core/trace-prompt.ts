import { createRng, deriveSeed } from "./rng.js";
import { syntheticText } from "./synthetic-text.js";
import type { TraceRow } from "./trace.js";

/**
 * The prompt for one trace row: with hash ids, one block of synthetic text per id (the last one cut to
 * the row's length), each block drawn from a generator seeded by its id alone, so rows that share ids
 * share byte-identical prefixes and the trace's prefix reuse is what the server sees. Without them, a
 * prompt of its own per row (seeded by the row's index), so no two rows share a prefix by chance.
 */
export function tracePrompt(row: TraceRow, index: number, seed: number, blockTokens: number): string {
  const ids = row.hashIds;
  if (!ids || ids.length === 0) return syntheticText(createRng(deriveSeed(seed, index)), row.inputTokens);
  const blocks: string[] = [];
  let left = row.inputTokens;
  for (let i = 0; i < ids.length && left > 0; i++) {
    const n = i === ids.length - 1 ? left : Math.min(blockTokens, left);
    blocks.push(syntheticText(createRng(deriveSeed(seed ^ 0x7ace, ids[i] as number)), n));
    left -= n;
  }
  return blocks.join(" ");
}
