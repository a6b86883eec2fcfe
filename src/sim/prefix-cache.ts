/**
 * The simulator's prefix cache, shaped like vLLM's automatic prefix caching: a prompt is cut into
 * blocks of BLOCK_TOKENS tokens (only whole blocks are cached), each block named by a hash of its
 * text chained to the block before it, so a block hits only after the same prefix. A hit saves that
 * block's prefill. Blocks live in the KV cache's free space and leave least recently used first
 * when the space is needed.
 */

/** vLLM's default KV block size. */
export const BLOCK_TOKENS = 16;

/** FNV-1a over a string, chained: equal blocks after equal prefixes get equal hashes. */
function fnv(text: string, seed: number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The chained hashes of a prompt's whole blocks (its words as tokens, as the simulator counts them). */
export function promptBlocks(words: readonly string[], blockTokens = BLOCK_TOKENS): number[] {
  const out: number[] = [];
  let prev = 0;
  for (let i = 0; i + blockTokens <= words.length; i += blockTokens) {
    prev = fnv(words.slice(i, i + blockTokens).join(" "), prev);
    out.push(prev);
  }
  return out;
}

export class PrefixCache {
  /** Block hash -> present; Map order is recency (oldest first). */
  private readonly blocks = new Map<number, true>();
  queriedTokens = 0;
  hitTokens = 0;

  constructor(private readonly blockTokens = BLOCK_TOKENS) {}

  get size(): number {
    return this.blocks.size;
  }

  /**
   * A prompt being admitted: how many of its tokens are already cached (the leading run of blocks
   * present), then every block of it made most recent; at most `capacityBlocks` stay.
   */
  admit(blocks: readonly number[], promptTokens: number, capacityBlocks: number): number {
    let hits = 0;
    while (hits < blocks.length && this.blocks.has(blocks[hits] as number)) hits++;
    for (const b of blocks) {
      this.blocks.delete(b);
      this.blocks.set(b, true);
    }
    this.evictTo(capacityBlocks);
    const cached = Math.min(hits * this.blockTokens, Math.max(0, promptTokens - 1));
    this.queriedTokens += promptTokens;
    this.hitTokens += cached;
    return cached;
  }

  /** Leaves at most `capacityBlocks`, the least recently used going first. */
  evictTo(capacityBlocks: number): void {
    const over = this.blocks.size - Math.max(0, capacityBlocks);
    if (over <= 0) return;
    let n = 0;
    for (const b of this.blocks.keys()) {
      if (n++ >= over) break;
      this.blocks.delete(b);
    }
  }
}
